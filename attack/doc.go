// Package attack turns a scenario into traffic: it sends the scenario's
// curve against a target, exactly and in an open model, and
// keeps every result.
//
// A CurvePacer makes request i due at N⁻¹(i + ½), so the count sent by any
// instant is the curve's count rounded, from 300 a day to 35,000 a second. A MixTargeter picks endpoints by smooth weighted round-robin, so the
// endpoint mix is exact over any window. With --shard i/n a run sends only the
// global requests i, i+n, i+2n, …: n shards together send exactly the
// single-machine schedule, endpoints included.
//
// Run sends with one of two engines (Options.Engine; run.json's engine says
// which). The fast engine, the default, is flashcrowd's own: keep-alive
// HTTP/1.1 connections, each owned by one goroutine that writes the
// endpoint's request bytes (encoded once) and parses the response minimally
// (status line, Content-Length or chunked, Connection), with a connection
// deadline per request instead of a timer and context; one dispatcher
// sleeps until each hit is due (a timerfd, on a 250 µs grid) and hands it
// to an idle connection, opening another when none is idle and the hit is
// on time (the open model: a slow target gets more requests in flight),
// up to min(MaxWorkers, MaxConnections), past which hits queue and Run
// reports it. It emits vegeta.Results with net/http's error texts, so
// scenarios.ErrorKind classifies them alike. It sends plain http to one host;
// a redirect it follows with net/http, as vegeta would (Options.Redirects);
// anything else (https, HTTP/2, several hosts, keep-alive off) falls back
// to vegeta's Attacker on net/http, which stays available as EngineVegeta.
//
// Run streams every result to the sink and to DIR/results.gob in vegeta's
// own gob encoding (readable by `vegeta report`; Options.Results and
// ResultsBudget bound its size by sampling, stated in run.json) beside
// DIR/run.json (scenarios.RunInfo), shows live progress, applies abort
// rules, and on cancellation stops sending, waits for requests in flight and
// keeps every result. A result's scheduled send time is recoverable from its
// Seq (RunInfo.Due), so the report can say how far sends lagged the schedule;
// Run warns when the generator itself fell behind (CPU, worker or connection
// limits) rather than silently running a lighter test.
package attack
