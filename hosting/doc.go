// Package hosting models hosting plans as queueing systems and puts them to
// work twice over: as a simulated HTTP host on loopback (Host, Handler,
// Serve) that a load test can break, and as a network-free discrete-event
// simulator (Simulate) that predicts the break and emits the same
// *vegeta.Result stream a real run does.
//
// A Plan is a set of worker pools, each with a bounded FIFO queue, serving
// three endpoint classes (page, asset, api). A request of class c goes to its
// pool; if a worker is free it is served at once, else it waits in the queue,
// and if the queue is full the host answers 503 (or refuses or resets the
// connection, as the plan says). A request still queued after the host
// timeout gets 504. Service takes a time drawn from the class's
// distribution; then the response body crosses the host's link, whose
// bandwidth is shared by every response (first come, first served), and the
// worker is held until the last byte is sent, as an Apache or PHP-FPM worker
// is. Pools may autoscale: a pool running above its target utilisation asks
// for more workers, which arrive after the reaction lag.
//
// The implied capacity of a plan for an endpoint mix, with class fractions
// f_c, mean service times s_c, sizes b_c, pool sizes W_p (at maximum
// autoscale) and bandwidth B, is
//
//	Capacity = min( min_p W_p / Σ_{c∈p} f_c·(s_c + b_c/B),  B / Σ_c f_c·b_c )
//
// requests per second: the bottleneck pool or the link. Tests check the live
// host and the simulator against it.
//
// Service time is spent waiting on timers, not burning CPU, so the host's
// capacity does not depend on how busy the machine is with the load
// generator.
package hosting
