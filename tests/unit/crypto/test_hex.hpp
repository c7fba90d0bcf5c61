#pragma once
// Hex literals for known-answer tests.

#include "esimguard/core/bytes.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string_view>

namespace esimguard::crypto::test {

/// Parses a hex literal of a test vector; a typo in a vector is a test bug.
inline bytes hex(std::string_view h) {
    auto b = from_hex(h);
    if (!b) {
        throw std::invalid_argument("bad hex in test vector");
    }
    return *b;
}

} // namespace esimguard::crypto::test
