// The one way our code includes Boost.Asio.
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>; with
// GCC 12 in C++20 mode that fails unless <utility> comes first.
#include <utility>

#include <boost/asio.hpp>
