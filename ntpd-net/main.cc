// ntpd-net: the sandboxed network process. Started only by ntpd (the clock
// process), never by hand.
#include "ntpd-net/net_process.h"

int main(int argc, char** argv) { return ntpd::net::run_net_process(argc, argv, {}); }
