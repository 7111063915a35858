// Command kubectl-podclass is the kubectl plugin of podclass: on the PATH,
// `kubectl podclass get|explain|stats` shows the classes podclass gave pods,
// why, and how many of each. It reads the podclass.io/ annotations and the
// refiner's Events with the user's kubeconfig, as kubectl does.
//
// It imports cmd/kubectl-podclass/plugin only.
package main
