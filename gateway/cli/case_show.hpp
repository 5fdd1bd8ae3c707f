// `vkhid case show`: one case in the terminal (gateway/cli/case_show.cpp).
#pragma once

#include <string>

#include "gateway/store/pg.hpp"

namespace vkhid::cli {

// Prints the case whose id, UCC number or tracking code is `which`: in words, or the console's JSON.
// Returns the exit code (0 shown, 1 not found or unreadable).
int caseShow(store::PgConnection& db, const std::string& which, bool as_json, const std::string& reason = {});

}  // namespace vkhid::cli
