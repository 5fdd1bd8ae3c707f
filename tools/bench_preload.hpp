// `vkhid bench --preload N`: N cases of history generated into the bench's database before its run.
#pragma once

#include "gateway/domain/error.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::tools::bench {

// Copies the closed cases the database holds (the template, run through the exchange) until about
// `cases` more are there, with their events, messages, receipts, timers and evidence entries; returns
// how many were made.
Result<long long> preloadHistory(store::PgConnection& db, long long cases);

}  // namespace vkhid::tools::bench
