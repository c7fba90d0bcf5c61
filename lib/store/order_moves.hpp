#pragma once
/// Rules shared by the store backends, applied by each inside its own
/// transaction (SQLite's write lock, PostgreSQL's row lock).

#include "esimguard/store/types.hpp"

#include <span>

namespace esimguard::store {

/// Whether order `o` may move to `to` at `now`: it must be in one of `from`,
/// and a download claim (`to` = downloaded) is refused when the order is
/// locked or expired. state_mismatch says which rule refused.
[[nodiscard]] result<void> check_order_move(const order_record& o,
                                            std::span<const order_state> from, order_state to,
                                            time_point now);

} // namespace esimguard::store
