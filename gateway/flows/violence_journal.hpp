// The journal of violence reports. Until the Unified State Register of domestic and gender-based
// violence cases works (CMU resolution No 234 of 20.03.2019), the single entry enters each report in the
// journal whose form is annex 6 to the Procedure approved by CMU resolution No 658 of 22.08.2018 (the
// single entry's resolution, п. 7). Each report gets the next number in the transaction that registers
// it; the journal is read for the Social Policy ministry as CSV or as a printable page with the form's
// columns. Reading it is restricted (a client granted restricted cases, with a reason) and each read is an
// entry in the evidence log: who, when, which entries, why, and the SHA-256 of what they were given.
// docs/violence-journal.md.
#pragma once

#include <string>
#include <vector>

#include "gateway/domain/error.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::flows {

// One entry with the form's columns (kJournalColumns), as text a person reads.
struct JournalEntry {
  long long entry_no = 0;
  std::string case_id, ucc_number;
  std::vector<std::string> columns;  // in kJournalColumns' order
  std::string register_ref;          // the register's number once it took the entry; empty before
};

// The form's column headings in Ukrainian (the form's language), in order.
const std::vector<std::string>& journalColumns();

// Enters a newly registered violence report in the journal, inside the registering transaction: the
// next number, with none skipped (taken under a transaction lock; a rolled-back registration leaves
// no gap).
Status enterInJournal(store::PgConnection& db, const std::string& case_id, const std::string& actor);

struct JournalRead {
  std::string from, to;  // Kyiv dates of entry, inclusive
  std::string format;    // csv, html or json
  std::string actor;     // who reads: admin:<client>, cli:<user>
  std::string reason;    // why (required): a ministry's request, an inspection …
};

// The journal for the period in the format, its read recorded in the evidence log (in the same
// transaction as the reading). Errors: "journal.invalid" naming the option.
Result<std::string> readJournal(store::PgConnection& db, const JournalRead& read);

// The register's side, for when it exists: it takes one entry and answers with its own number. The
// gateway passes entries it has not yet passed, oldest first, and records each number (an evidence
// entry) — so the journal and the register agree, and nothing is passed twice.
class ViolenceRegister {
 public:
  virtual ~ViolenceRegister() = default;
  virtual Result<std::string> submit(const JournalEntry& entry) = 0;
};

// Passes up to `limit` entries not yet passed to the register; returns how many it passed. Stops at the
// first the register refuses, leaving it and those after it for the next run.
Result<int> passToRegister(store::PgConnection& db, ViolenceRegister& reg, int limit);

}  // namespace vkhid::flows
