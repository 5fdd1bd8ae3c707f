// Likely repeats and mass appeals found as an appeal is registered (issue 30; Law 393 art. 8, the
// resolution's п. 4): the applicant's name, contacts and text are compared by keyed hashes of their
// words (HMAC under the index key, store/at_rest.hpp), never by the values, which are sealed.
#include <algorithm>

#include "gateway/domain/text.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/intake.hpp"
#include "gateway/store/at_rest.hpp"

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
  auto key = store::personalIndex(db, "name:" + normalisedWords(a.surname) + "\n" + normalisedWords(a.first_name) +
                                          "\n" + normalisedWords(a.patronymic));
  if (!key) return key.error();
  out.applicant_key = *key;
  // How a contact is compared: an e-mail and an address by their words, a phone by its digits.
  for (const auto& [kind, value] :
       {std::pair{"email:", normalisedWords(a.email)}, std::pair{"phone:", digitsOf(a.phone)},
        std::pair{"address:", normalisedWords(a.address)}}) {
    if (value.empty()) continue;
    auto hash = store::personalIndex(db, kind + value);
    if (!hash) return hash.error();
    out.contact_keys.push_back(*hash);
  }
  // The earlier appeals of the applicant asked with the text's first case: one exchange for both, and
  // the number and routing rule asked before them (registerCase, Intake::submit). Not wanted when the
  // case joins a mass appeal, which is rare.
  const int repeat_window = context.config.reports.repeat_window_days;
  if (c.classification.topic) {
    store::askLikelyRepeat(db, out.applicant_key, *c.classification.topic, out.contact_keys, repeat_window);
  }
  const std::string words = normalisedWords(c.text);
  // Characters, not bytes: a Cyrillic letter is two.
  const auto chars = std::count_if(words.begin(), words.end(), [](char ch) { return (ch & 0xC0) != 0x80; });
  if (chars >= context.config.intake.mass_appeal_min_chars) {
    auto text_key = store::personalIndex(db, "text:" + words);
    if (!text_key) return text_key.error();
    out.text_hash = *text_key;
    if (auto s = store::lockTextHash(db, out.text_hash); !s) return s.error();
    auto m =
        store::findMassPrimary(db, out.text_hash, out.applicant_key, context.config.intake.mass_appeal_window_days);
    if (!m) return m.error();
    out.first_of_mass = *m;
  }
  if (!out.first_of_mass && c.classification.topic) {
    auto r = store::findLikelyRepeat(db, out.applicant_key, *c.classification.topic, out.contact_keys, repeat_window);
    if (!r) return r.error();
    out.repeated = *r;
  }
  return out;
}

}  // namespace vkhid::flows
