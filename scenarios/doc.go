// Package scenarios models the traffic a site receives when the press finds
// it: a Curve is a piecewise rate function r(t) in requests per second with an
// exact cumulative count N(t) = ∫r and its inverse, and a Scenario adds the
// endpoint mix, the service-level objective and the abort rules.
//
// Every segment kind has a closed-form integral and inverse, so the due time
// of the i-th request, N⁻¹(i + ½) (Curve.Due), is exact at 300 hits a day and at 35,000 a
// second alike:
//
//	hold   r(t) = R                       N(t) = R·t
//	ramp   r(t) = R1 + (R2−R1)·t/D         N(t) = R1·t + (R2−R1)·t²/2D
//	exp    r(t) = R1·e^(k·t), k=ln(R2/R1)/D  N(t) = R1·(e^(k·t) − 1)/k
//	decay  r(t) = R·2^(−t/H)               N(t) = R·H/ln2·(1 − 2^(−t/H))
//	power  r(t) = R·(1 + t/S)^(−a)         N(t) = R·S·((1+t/S)^(1−a) − 1)/(1−a)
//	step   a staircase of holds
//	replay measured (time, rate) points joined by ramps
package scenarios
