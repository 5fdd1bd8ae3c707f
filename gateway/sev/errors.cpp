#include "gateway/sev/errors.hpp"

#include <charconv>

namespace vkhid::sev {

namespace {

// Every SEV code with its stable name, the Ukrainian text an EDMS operator reads and the English text for
// logs. Data, kept as one table so that a code is added in one place.
constexpr SevErrorInfo kSevErrors[] = {
    {SevError::None, "none", "Помилок немає", "no error"},
    {SevError::BadStandart, "bad_standart", "Невірний стандарт повідомлення (очікується 1207)",
     "wrong standart (expected 1207)"},
    {SevError::BadVersion, "bad_version", "Невірна версія формату (очікується 1.5)", "wrong version (expected 1.5)"},
    {SevError::BadMsgType, "bad_msg_type", "Невірний тип повідомлення", "wrong msg_type"},
    {SevError::UnknownRecipient, "unknown_recipient", "Невідомий отримувач повідомлення",
     "the recipient (to_org_id) is not this gateway"},
    {SevError::WrongRecipientSystem, "wrong_recipient_system", "Невірний ідентифікатор системи отримувача",
     "to_sys_id does not name this gateway"},
    {SevError::BadHeaderAttribute, "bad_header_attribute", "Помилка в атрибутах заголовка повідомлення",
     "bad header attribute"},
    {SevError::ZoneMissing, "zone_missing", "Відсутня обов'язкова зона повідомлення",
     "a zone required for this msg_type is missing"},
    {SevError::ZoneNotAllowed, "zone_not_allowed", "Зона не допускається для цього типу повідомлення",
     "a zone is not allowed for this msg_type"},
    {SevError::WrongRoot, "wrong_root", "Невірний кореневий елемент або простір імен",
     "the root element is not a SEV OVV Header in no namespace"},
    {SevError::ElementMissing, "element_missing", "Відсутній обов'язковий елемент", "a required element is missing"},
    {SevError::ElementUnexpected, "element_unexpected", "Неочікуваний елемент", "an unexpected element"},
    {SevError::BadValue, "bad_value", "Невірне значення елемента", "an element has a wrong value"},
    {SevError::BadAttribute, "bad_attribute", "Невірне значення атрибута", "an attribute has a wrong value"},
    {SevError::BadBase64, "bad_base64", "Невірне кодування base64 вкладення", "invalid base64 content"},
    {SevError::BadDateTime, "bad_datetime", "Невірний формат дати або часу", "invalid date or time"},
    {SevError::ReferenceMismatch, "reference_mismatch", "Посилання не відповідає жодному відомому документу",
     "the reference matches no known message or document"},
    {SevError::Malformed, "malformed", "Повідомлення не є правильно сформованим XML", "not well-formed XML"},
    {SevError::DtdForbidden, "dtd_forbidden", "DTD та сутності в повідомленнях заборонені",
     "a DTD or entity declaration is not allowed"},
    {SevError::TooLarge, "too_large", "Розмір повідомлення перевищує допустимий", "the package is over the size limit"},
    {SevError::TooDeep, "too_deep", "Перевищено допустиму глибину вкладеності елементів",
     "elements are nested deeper than allowed"},
    {SevError::BadEncoding, "bad_encoding", "Повідомлення не в кодуванні UTF-8", "the package is not valid UTF-8"},
    {SevError::SchemaInvalid, "schema_invalid", "Повідомлення не відповідає схемі формату",
     "the package does not validate against the SEV OVV 1.5 schema"},
    {SevError::LimitsExceeded, "limits_exceeded",
     "Перевищено допустиму кількість атрибутів чи оголошень просторів імен або довжину імені чи значення",
     "more attributes or namespace declarations, or longer names or values, than a package may have"},
    {SevError::TransferUnverified, "transfer_unverified",
     "Цілісність переданого повідомлення не підтверджено (хеш не збігається)",
     "the transport could not confirm the package arrived as sent (the hub's hash never matched)"},
    {SevError::SealMissing, "seal_missing", "Відсутня електронна печатка пакета", "the package has no seal"},
    {SevError::SealInvalid, "seal_invalid", "Електронна печатка пакета недійсна",
     "the package seal does not verify (content changed or wrong key)"},
    {SevError::SealDuplicated, "seal_duplicated", "Пакет містить більше однієї печатки",
     "the package carries more than one seal"},
    {SevError::SealReferenceNotWhole, "seal_reference_not_whole", "Печатка не охоплює весь документ",
     "the seal does not cover exactly the whole document (one Reference URI=\"\")"},
    {SevError::SignerUntrusted, "signer_untrusted", "Сертифікат підписувача не є довіреним",
     "the signer's certificate does not chain to a trusted CA"},
    {SevError::SignerNotSender, "signer_not_sender", "Підписувач не є відправником повідомлення",
     "the signer's organisation is not the sender (from_org_id)"},
    {SevError::CertificateNotValidAtSigning, "certificate_not_valid", "Сертифікат не був чинним на час підписання",
     "the signer's certificate was not valid at the time of signing"},
    {SevError::SealMalformed, "seal_malformed", "Печатка пакета має неприпустиму структуру",
     "the seal is malformed (algorithm, transforms or key info not as required)"},
    {SevError::SignerNotRegistered, "signer_not_registered",
     "Сертифікат підписувача не зареєстровано для цього учасника",
     "the signer's certificate chains to a trusted CA but is not one registered for this participant"},
    {SevError::CertificateExpiredNoProof, "certificate_expired_no_proof",
     "Сертифікат підписувача прострочено; немає доказу, що підпис існував раніше",
     "signer's certificate expired; no proof the signature existed before (no trusted time-stamp)"},
    {SevError::AttachmentSignatureInvalid, "attachment_signature_invalid", "Підпис вкладення недійсний",
     "an attachment signature does not verify"},
    {SevError::AttachmentSignatureMissing, "attachment_signature_missing", "Відсутній підпис вкладення",
     "an attachment has no signature"},
    {SevError::AttachmentSignatureUnsupported, "attachment_signature_unsupported",
     "Алгоритм підпису вкладення не підтримується",
     "an attachment signature uses an algorithm this gateway cannot check (e.g. big-endian DSTU 4145, Kupyna)"},
    {SevError::AttachmentSignatureOrphan, "attachment_signature_orphan", "Підпис не відповідає жодному вкладенню",
     "a SignInfo names no DocTransfer of the package"},
    {SevError::AttachmentSignatureNotCheckable, "attachment_signature_not_checkable",
     "Підпис неможливо перевірити: немає сертифіката підписувача",
     "the signature cannot be checked: no signer certificate in it, beside it or in the trust list"},
    {SevError::UnknownSender, "unknown_sender", "Невідомий відправник", "the sender is not a known participant"},
    {SevError::DuplicateMsgIdDifferentContent, "duplicate_msg_id",
     "Повідомлення з таким ідентифікатором вже отримано з іншим вмістом",
     "a message with this msg_id was already received with other content"},
    {SevError::NotInCompetence, "not_in_competence", "Звернення не належить до компетенції органу",
     "the case is not in the participant's competence"},
    {SevError::ExtensionBeyondCap, "extension_beyond_cap",
     "Новий строк перевищує граничний строк, встановлений законом",
     "the extended deadline is beyond the legal cap (45 days for appeals, 20 working days for information requests)"},
    {SevError::ExtensionNoticeLate, "extension_notice_late",
     "Повідомлення про продовження строку надіслано пізніше п'яти робочих днів",
     "the extension notice came later than 5 working days after receipt (Law 2939-VI art. 20 part 4)"},
    {SevError::ExtensionNotAllowed, "extension_not_allowed",
     "Строк розгляду не продовжується: вид звернення або дата, що не подовжує строк",
     "no extension: a kind of case without one (a violence report), or a date not after the term in force"},
};

}  // namespace

std::span<const SevErrorInfo> allSevErrors() { return kSevErrors; }

const SevErrorInfo& sevErrorInfo(SevError code) {
  for (const auto& e : allSevErrors()) {
    if (e.code == code) return e;
  }
  return allSevErrors().front();
}

Error sevError(SevError code, const std::string& detail) {
  const auto& info = sevErrorInfo(code);
  std::string message = info.message;
  if (!detail.empty()) message += ": " + detail;
  auto kind = static_cast<int>(code) >= 130 ? ErrorKind::Conflict : ErrorKind::InvalidInput;
  return Error{kind, "sev." + std::to_string(static_cast<int>(code)), std::move(message)};
}

std::string sevErrorDetail(const Error& error) {
  auto code = sevErrorOf(error);
  if (!code) return error.message;
  std::string prefix = std::string(sevErrorInfo(*code).message) + ": ";
  return error.message.starts_with(prefix) ? error.message.substr(prefix.size()) : error.message;
}

std::optional<SevError> sevErrorOf(const Error& error) {
  if (!error.code.starts_with("sev.")) return std::nullopt;
  int n = 0;
  auto text = std::string_view(error.code).substr(4);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return static_cast<SevError>(n);
}

}  // namespace vkhid::sev
