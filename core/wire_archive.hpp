// The wire archive lives in include/fourinone/detail/wire_archive.hpp: WareHouse::get_object
// and put_object (public templates) decode users' objects with it, so that a hostile length
// field in a task's input cannot make a worker allocate either. Internal code includes it
// from here.
#pragma once

#include "fourinone/detail/wire_archive.hpp"
