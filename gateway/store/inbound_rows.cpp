#include "gateway/store/inbound_rows.hpp"

namespace vkhid::store {

Result<ReceiptCases> lockCasesForReceipts(PgConnection& db, const std::vector<std::string>& case_ids) {
  ReceiptCases out;
  if (case_ids.empty()) return out;
  // ORDER BY under FOR UPDATE: the rows are locked as they come out of the sort, in the order every
  // other locker of several cases takes them (store::moveClaims, a batch applied case by case).
  auto r = db.exec(
      "SELECT id::text, status, coalesce(participant_org_id, ''), coalesce(participant_reg_number, '') FROM cases "
      "WHERE id = ANY ($1::uuid[]) ORDER BY id FOR UPDATE",
      {textArrayLiteral(case_ids)});
  if (!r) return r.error();
  for (int i = 0; i < r->rows(); ++i) {
    std::string id(r->get(i, 0));
    auto status = caseStatusOf(r->get(i, 1), id);
    if (!status) return status.error();
    db.hold(heldCase(id));
    out.insert_or_assign(std::move(id), ReceiptCaseRow{*status, std::string(r->get(i, 2)), std::string(r->get(i, 3))});
  }
  return out;
}

}  // namespace vkhid::store
