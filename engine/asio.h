// The one way this project includes Boost.Asio and Beast. Boost 1.74's Asio needs <utility>
// before it under -std=c++20 with g++ 12 (std::exchange in awaitable.hpp).
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
