// The life of the data keys that seal personal data at rest (issue 29, docs/privacy.md): a new master
// key (rotate), new data keys for old months (reencrypt), and the destruction of a month's key once none
// of its values is left. Each is an evidence entry. All of it runs while the gateway serves.
#pragma once

#include <functional>
#include <string>

#include "gateway/domain/error.hpp"
#include "gateway/store/at_rest.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::flows {

// Re-wraps every live data key under `next` in one transaction (evidence keys.rotated). Running gateways
// keep the data keys they hold; they must be restarted with the new master key, as they refuse to make a
// new key under the old one.
Status rotateMasterKey(store::PgConnection& db, store::AtRest& current, const store::AtRest& next);

struct ReencryptOutcome {
  int keys = 0;          // data keys replaced (then destroyed)
  long long values = 0;  // values re-sealed
};
// Every data key made more than `older_than_days` ago is retired: a new key seals its month from then on,
// its values are re-sealed under that in batches (each its own short transaction, rows locked with SKIP
// LOCKED, so the exchange goes on), and once none is left it is destroyed (evidence keys.reencrypted).
// `progress` is told each key's count.
Result<ReencryptOutcome> reencryptOlderThan(store::PgConnection& db, store::AtRest& ring, int older_than_days,
                                            const std::function<void(const std::string&)>& progress);

// The data keys of months before the last whose values are all erased: destroyed (wrapped key dropped,
// evidence erasure.key), so that no copy of the database, a backup included, opens that month again.
Result<int> destroyEmptyMonthKeys(store::PgConnection& db);

}  // namespace vkhid::flows
