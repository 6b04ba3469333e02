// The coordination recipes on the park, all at once (park/recipes/README.md): locks and
// fencing, leader election, service registry, barriers, a counter, config subscriptions and
// partition balancing. Each has its own header; include just one if that is all you need.
#pragma once

#include "fourinone/barrier.hpp"
#include "fourinone/config_watch.hpp"
#include "fourinone/counter.hpp"
#include "fourinone/election.hpp"
#include "fourinone/lock.hpp"
#include "fourinone/partitions.hpp"
#include "fourinone/registry.hpp"
