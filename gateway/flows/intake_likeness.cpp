// Likely repeats and mass appeals found as an appeal is registered (issue 30; Law 393 art. 8, the
// resolution's п. 4): the applicant's name and the text are compared by hashes of their words.
#include <algorithm>

#include "gateway/domain/text.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/intake.hpp"

namespace vkhid::flows {
namespace {

std::string digitsOf(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch >= '0' && ch <= '9') out += ch;
  }
  return out;
}

}  // namespace

Result<Likeness> compareWithEarlier(store::PgConnection& db, const ExchangeContext& context, const domain::Case& c) {
  Likeness out;
  const auto& a = c.applicant;
  if (c.kind != domain::CaseKind::Appeal || a.anonymous || normalisedWords(a.surname).empty()) return out;
  out.applicant_key = sha256Hex(normalisedWords(a.surname) + "\n" + normalisedWords(a.first_name) + "\n" +
                                normalisedWords(a.patronymic));
  const std::string words = normalisedWords(c.text);
  // Characters, not bytes: a Cyrillic letter is two.
  const auto chars = std::count_if(words.begin(), words.end(), [](char ch) { return (ch & 0xC0) != 0x80; });
  if (chars >= context.config.intake.mass_appeal_min_chars) {
    out.text_hash = sha256Hex(words);
    if (auto s = store::lockTextHash(db, out.text_hash); !s) return s.error();
    auto m =
        store::findMassPrimary(db, out.text_hash, out.applicant_key, context.config.intake.mass_appeal_window_days);
    if (!m) return m.error();
    out.first_of_mass = *m;
  }
  if (!out.first_of_mass && c.classification.topic) {
    auto r = store::findLikelyRepeat(db, out.applicant_key, *c.classification.topic, a.email, digitsOf(a.phone),
                                     a.address, context.config.reports.repeat_window_days);
    if (!r) return r.error();
    out.repeated = *r;
  }
  return out;
}

}  // namespace vkhid::flows
