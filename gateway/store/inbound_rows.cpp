#include "gateway/store/inbound_rows.hpp"

#include "gateway/store/case_views.hpp"

namespace vkhid::store {

Result<ReceiptCases> lockCasesForReceipts(PgConnection& db, const std::vector<std::string>& case_ids) {
  ReceiptCases out;
  if (case_ids.empty()) return out;
  // ORDER BY under FOR UPDATE: the rows are locked as they come out of the sort, in the order every
  // other locker of several cases takes them (store::moveClaims, a batch applied case by case).
  // With what a reply reads of its case, its group's members among it (an index of merged cases only):
  // the answer to a case of the batch needs no statement to lock it.
  auto r = db.exec(
      std::string("SELECT id::text AS id, status, coalesce(participant_org_id, '') AS org, "
                  "coalesce(participant_reg_number, '') AS reg, ucc_number, tracking_code, answer_msg_id IS NOT NULL "
                  "AS answered, ") +
          kMembersOf + " FROM cases c WHERE id = ANY ($1::uuid[]) ORDER BY id FOR UPDATE OF c",
      {textArrayLiteral(case_ids)});
  if (!r) return r.error();
  for (int i = 0; i < r->rows(); ++i) {
    std::string id(r->get(i, "id"));
    auto status = caseStatusOf(r->get(i, "status"), id);
    if (!status) return status.error();
    db.hold(heldCase(id));
    out.insert_or_assign(
        std::move(id),
        BatchCase{ReceiptCaseRow{*status, std::string(r->get(i, "org")), std::string(r->get(i, "reg"))},
                  std::string(r->get(i, "ucc_number")), std::string(r->get(i, "tracking_code")),
                  r->getBool(i, "answered"), membersOf(r->get(i, "member_ids"), r->get(i, "member_codes"))});
  }
  return out;
}

}  // namespace vkhid::store
