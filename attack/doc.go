// Package attack turns a scenario into traffic: it sends the scenario's
// curve against a target with vegeta, exactly and in an open model, and
// keeps every result.
//
// A CurvePacer makes request i due at N⁻¹(i), so the count sent by any
// instant matches the curve within one request, from 300 a day to 35,000 a
// second. A MixTargeter picks endpoints by smooth weighted round-robin, so the
// endpoint mix is exact over any window. With --shard i/n a run sends only the
// global requests i, i+n, i+2n, …: n shards together send exactly the
// single-machine schedule, endpoints included.
//
// Run drives vegeta's Attacker with these, streams every result to
// DIR/results.gob in vegeta's own gob encoding (readable by `vegeta report`)
// beside DIR/run.json (scenarios.RunInfo), shows live progress, applies abort
// rules, and on cancellation stops sending, waits for requests in flight and
// keeps every result. A result's scheduled send time is recoverable from its
// Seq (RunInfo.Due), so the report can say how far sends lagged the schedule;
// Run warns when the generator itself fell behind (CPU, worker or connection
// limits) rather than silently running a lighter test.
package attack
