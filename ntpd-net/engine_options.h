// System options of NetConfig for the engine (tos orphan, orphanwait,
// mindist, maxdist, minclock, maxclock, minsane, floor, ceiling),
// checked like any input from the other process: out-of-range values are
// logged and ignored. Runs in ntpd-net; no I/O besides the log.
#pragma once

#include "ntpd-net/engine.h"
#include "proto/ntpd.pb.h"

namespace ntpd::net {

void apply_engine_options(const ipc::NetConfig& config, EngineConfig* engine);

}  // namespace ntpd::net
