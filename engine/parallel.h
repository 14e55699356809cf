// RunBoth: two independent pieces of work at once, one on a thread of its own and one on the
// caller's, returning when both are done. For start-up work (loading the store), when the cores
// have nothing else to do; the two must touch disjoint data. An exception from either is thrown
// again to the caller, once both have ended.
#pragma once

#include <exception>
#include <thread>
#include <utility>

namespace rms {

template <typename A, typename B>
void RunBoth(A&& a, B&& b) {
    std::exception_ptr a_failed;
    std::thread other([&] {
        try {
            a();
        } catch (...) {
            a_failed = std::current_exception();
        }
    });
    try {
        b();
    } catch (...) {
        other.join();
        throw;
    }
    other.join();
    if (a_failed) {
        std::rethrow_exception(a_failed);
    }
}

}  // namespace rms
