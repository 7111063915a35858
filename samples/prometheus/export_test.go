package prometheus

// MaxPointsPerQuery is the points per series one range query asks for at
// most, exported for the tests that count queries.
const MaxPointsPerQuery = maxPointsPerQuery
