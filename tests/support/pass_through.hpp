// A contractor whose give_task hands its input straight to the workers (run_job, the worker
// tests): what the tests check is what the workers do.
#pragma once

#include "fourinone/contractor.hpp"

namespace fourinone::test {

class PassThrough : public Contractor {
 public:
  using Contractor::Contractor;
  WareHouse give_task(const WareHouse& input) override { return input; }
};

}  // namespace fourinone::test
