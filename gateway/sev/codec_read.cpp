// DOM -> model. The document has passed the schema, so element order and required attributes hold;
// this code only lifts values out.
#include <libxml/tree.h>

#include <cstdlib>

#include "gateway/domain/base64.hpp"
#include "gateway/sev/codec.hpp"
#include "gateway/sev/errors.hpp"

namespace vkhid::sev {
namespace {

class Reader {
 public:
  Status status() const { return error_ ? Status(*error_) : Status(); }

  static bool is(const xmlNode* n, const char* name) {
    return n->type == XML_ELEMENT_NODE && n->ns == nullptr && sv(n->name) == name;
  }
  static bool isAppeal(const xmlNode* n, const char* name) {
    return n->type == XML_ELEMENT_NODE && n->ns != nullptr && sv(n->ns->href) == kAppealNs && sv(n->name) == name;
  }
  template <class F>
  static void forChildren(const xmlNode* n, F&& f) {
    for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
      if (c->type == XML_ELEMENT_NODE) f(c);
    }
  }

  static Opt attr(const xmlNode* n, const char* name) { return attribute(n, name); }
  static std::string req(const xmlNode* n, const char* name) { return attr(n, name).value_or(""); }
  static int reqInt(const xmlNode* n, const char* name) { return std::atoi(req(n, name).c_str()); }
  static std::string text(const xmlNode* n) {
    xmlChar* v = xmlNodeGetContent(n);
    std::string s(sv(v));
    xmlFree(v);
    return s;
  }

  std::string bytes(const xmlNode* n, const std::string& what) {
    auto decoded = base64Decode(text(n));
    if (!decoded) {
      fail(SevError::BadBase64, what + " (line " + std::to_string(xmlGetLineNo(n)) + ")");
      return {};
    }
    return std::move(*decoded);
  }

  Address address(const xmlNode* n) {
    return Address{text(n),
                   attr(n, "street"),
                   attr(n, "house"),
                   attr(n, "building"),
                   attr(n, "flat"),
                   attr(n, "settlement"),
                   attr(n, "district"),
                   attr(n, "region"),
                   attr(n, "country"),
                   attr(n, "postcode"),
                   attr(n, "postbox"),
                   attr(n, "nontypical")};
  }
  Econtact econtact(const xmlNode* n) { return {text(n), attr(n, "type")}; }
  Name name(const xmlNode* n) { return {text(n), attr(n, "secname"), attr(n, "firstname"), attr(n, "fathersname")}; }
  RegNumber regNumber(const xmlNode* n) { return {text(n), req(n, "regdate"), attr(n, "regpoint")}; }
  TaskNumber taskNumber(const xmlNode* n) { return {text(n), req(n, "taskDate")}; }

  OfficialPerson officialPerson(const xmlNode* n) {
    OfficialPerson p;
    forChildren(n, [&](const xmlNode* c) {
      if (is(c, "Name")) p.name = name(c);
      if (is(c, "Official"))
        p.officials.push_back({text(c), attr(c, "department"), attr(c, "post"), attr(c, "separator")});
      if (is(c, "Rank")) p.ranks.push_back({text(c), attr(c, "privilege"), attr(c, "socialposition"), attr(c, "sex")});
      if (is(c, "Address")) p.address = address(c);
      if (is(c, "Econtact")) p.econtacts.push_back(econtact(c));
      if (is(c, "SignDate")) p.sign_date = text(c);
    });
    return p;
  }

  Organization organization(const xmlNode* n) {
    Organization o;
    forChildren(n, [&](const xmlNode* c) {
      if (is(c, "Address")) o.address = address(c);
      if (is(c, "Econtact")) o.econtacts.push_back(econtact(c));
      if (is(c, "OfficialPerson")) o.official_persons.push_back(officialPerson(c));
    });
    o.fullname = attr(n, "fullname");
    o.shortname = attr(n, "shortname");
    o.ownership = attr(n, "ownership");
    o.ogrn = req(n, "ogrn");
    o.inn = attr(n, "inn");
    return o;
  }

  PrivatePerson privatePerson(const xmlNode* n) {
    PrivatePerson p;
    forChildren(n, [&](const xmlNode* c) {
      if (is(c, "Name")) p.name = name(c);
      if (is(c, "Rank")) p.ranks.push_back({text(c), attr(c, "privilege"), attr(c, "socialposition"), attr(c, "sex")});
      if (is(c, "Address")) p.address = address(c);
      if (is(c, "Econtact")) p.econtacts.push_back(econtact(c));
      if (is(c, "SignDate")) p.sign_date = text(c);
    });
    p.inn = attr(n, "inn");
    p.pas_ser = attr(n, "pas_ser");
    p.pas_num = attr(n, "pas_num");
    p.pas_org = attr(n, "pas_org");
    p.pas_date = attr(n, "pas_date");
    return p;
  }

  // The optional Organization | PrivatePerson choice among a node's children.
  Party party(const xmlNode* n) {
    Party p;
    forChildren(n, [&](const xmlNode* c) {
      if (is(c, "Organization")) p = organization(c);
      if (is(c, "PrivatePerson")) p = privatePerson(c);
    });
    return p;
  }

  DocNumber docNumber(const xmlNode* n) {
    DocNumber d;
    forChildren(n, [&](const xmlNode* c) {
      if (is(c, "Organization")) d.organization = organization(c);
      if (is(c, "RegNumber")) d.reg_number = regNumber(c);
    });
    d.kind = req(n, "kind");
    return d;
  }

  DocTransfer docTransfer(const xmlNode* n) {
    DocTransfer t;
    t.idnumber = req(n, "idnumber");
    t.content = bytes(n, "DocTransfer idnumber=" + t.idnumber);
    t.os = attr(n, "os");
    t.type = req(n, "type");
    t.type_ver = attr(n, "type_ver");
    t.char_set = attr(n, "char_set");
    t.description = req(n, "description");
    return t;
  }

  Referred referred(const xmlNode* n) {
    Referred r;
    forChildren(n, [&](const xmlNode* c) {
      if (is(c, "RegNumber")) r.number = regNumber(c);
      if (is(c, "TaskNumber")) r.number = taskNumber(c);
    });
    r.idnumber = attr(n, "idnumber");
    r.retype = req(n, "retype");
    return r;
  }

  DocumentAttributes documentAttributes(const xmlNode* n) {
    DocumentAttributes a;
    a.idnumber = req(n, "idnumber");
    a.type = reqInt(n, "type");
    a.kind = attr(n, "kind");
    a.idnumber_ext = attr(n, "idnumber_ext");
    a.pages = attr(n, "pages");
    a.title = attr(n, "title");
    a.annotation = attr(n, "annotation");
    a.collection = attr(n, "collection");
    a.purpose_type = reqInt(n, "purpose_type");
    a.urgent = attr(n, "urgent");
    return a;
  }

  Approver approver(const xmlNode* n) {
    Approver a;
    a.party = party(n);
    forChildren(n, [&](const xmlNode* c) {
      if (is(c, "ReferredApprover")) a.referred_approvers.push_back(req(c, "idnumber"));
    });
    a.idnumber = req(n, "idnumber");
    a.deadline = req(n, "deadline");
    return a;
  }

  Approval approval(const xmlNode* n) {
    Approval result = ApprovalResponse{};
    forChildren(n, [&](const xmlNode* c) {
      if (is(c, "ApprovalRequest")) {
        ApprovalRequest r;
        forChildren(c, [&](const xmlNode* g) {
          if (is(g, "InitiativeDocumentSender")) {
            InitiativeDocumentSender s;
            s.party = party(g);
            forChildren(g, [&](const xmlNode* h) {
              if (is(h, "Referred")) s.referred.push_back(referred(h));
            });
            r.sender = std::move(s);
          }
          if (is(g, "Approver")) r.approvers.push_back(approver(g));
        });
        result = std::move(r);
      }
      if (is(c, "ApprovalResponse")) result = ApprovalResponse{req(c, "attestation"), attr(c, "comment")};
    });
    return result;
  }

  Document document(const xmlNode* n) {
    Document d;
    d.attrs = documentAttributes(n);
    forChildren(n, [&](const xmlNode* c) {
      if (is(c, "RegNumber")) d.reg_number = regNumber(c);
      if (is(c, "Confident")) d.confident = {text(c), reqInt(c, "flag")};
      if (is(c, "DocNumber")) d.doc_number = docNumber(c);
      if (is(c, "DocTransfer")) d.transfers.push_back(docTransfer(c));
      if (is(c, "Reghistory")) {
        Reghistory h;
        forChildren(c, [&](const xmlNode* g) {
          if (is(g, "Organization")) h.organization = organization(g);
          if (is(g, "RegNumber")) h.reg_number = regNumber(g);
        });
        h.idnumber = attr(c, "idnumber");
        d.reghistory.push_back(std::move(h));
      }
      if (is(c, "Author")) {
        Author a;
        a.party = party(c);
        forChildren(c, [&](const xmlNode* g) {
          if (is(g, "OutNumber")) {
            forChildren(g, [&](const xmlNode* h) {
              if (is(h, "RegNumber")) a.out_number = regNumber(h);
            });
          }
        });
        d.authors.push_back(std::move(a));
      }
      if (is(c, "Validator")) {
        Validator v;
        v.party = party(c);
        forChildren(c, [&](const xmlNode* g) {
          if (is(g, "DocNumber")) v.doc_number = docNumber(g);
        });
        v.attestation = req(c, "attestation");
        d.validators.push_back(std::move(v));
      }
      if (is(c, "Addressee")) {
        Addressee a;
        a.party = party(c);
        forChildren(c, [&](const xmlNode* g) {
          if (is(g, "Referred")) a.referred.push_back(referred(g));
        });
        a.type = reqInt(c, "type");
        d.addressees.push_back(std::move(a));
      }
      if (is(c, "Writer")) d.writer = Writer{party(c)};
      if (is(c, "Approval")) d.approval = approval(c);
    });
    return d;
  }

  TaskList taskList(const xmlNode* n) {
    TaskList list;
    forChildren(n, [&](const xmlNode* c) {
      if (!is(c, "Task")) return;
      Task t;
      forChildren(c, [&](const xmlNode* g) {
        if (is(g, "TaskNumber")) t.task_number = taskNumber(g);
        if (is(g, "Confident")) t.confident = {text(g), reqInt(g, "flag")};
        if (is(g, "Referred")) t.referred.push_back(referred(g));
        if (is(g, "Author")) {
          forChildren(g, [&](const xmlNode* h) {
            if (is(h, "Organization")) t.authors.push_back(organization(h));
          });
        }
        if (is(g, "DocTransfer")) t.transfers.push_back(docTransfer(g));
        if (is(g, "Executor")) {
          Executor e;
          forChildren(g, [&](const xmlNode* h) {
            if (is(h, "Organization")) e.organization = organization(h);
          });
          e.responsible = attr(g, "responsible");
          e.task_specified = attr(g, "task_specified");
          e.deadline = req(g, "deadline");
          t.executors.push_back(std::move(e));
        }
      });
      t.idnumber = req(c, "idnumber");
      t.task_reg = reqInt(c, "task_reg");
      t.task_copy = reqInt(c, "task_copy");
      t.kind = attr(c, "kind");
      t.task_text = req(c, "task_text");
      t.deadline = attr(c, "deadline");
      t.referred_control = reqInt(c, "referred-control");
      list.tasks.push_back(std::move(t));
    });
    return list;
  }

  AddDocuments addDocuments(const xmlNode* n) {
    AddDocuments a;
    forChildren(n, [&](const xmlNode* c) {
      if (!is(c, "Folder")) return;
      Folder f;
      forChildren(c, [&](const xmlNode* g) {
        if (is(g, "DocTransfer")) f.transfers.push_back(docTransfer(g));
        if (is(g, "Note")) f.notes.push_back(text(g));
        if (is(g, "Document")) {
          DocumentLink link;
          forChildren(g, [&](const xmlNode* h) {
            if (is(h, "RegNumber")) link.reg_number = regNumber(h);
          });
          link.attrs = documentAttributes(g);
          f.documents.push_back(std::move(link));
        }
      });
      f.add_type = reqInt(c, "add_type");
      a.folders.push_back(std::move(f));
    });
    return a;
  }

  static bool boolAttr(const xmlNode* n, const char* name) {
    auto v = attr(n, name);
    return v && (*v == "true" || *v == "1");
  }

  AppealExpansion appeal(const xmlNode* n) {
    AppealExpansion a;
    a.kind = req(n, "kind");
    a.case_id = req(n, "case_id");
    a.channel = req(n, "channel");
    a.received_at = req(n, "received_at");
    a.restricted = boolAttr(n, "restricted");
    a.priority = attr(n, "priority");
    a.urgency = attr(n, "urgency");
    a.anonymous = attr(n, "anonymous");
    a.collective = attr(n, "collective");
    forChildren(n, [&](const xmlNode* c) {
      if (isAppeal(c, "Classification")) {
        a.classification =
            Classification{attr(c, "form_of_receipt"),    attr(c, "sign"),          attr(c, "type"), attr(c, "subject"),
                           attr(c, "applicant_category"), attr(c, "social_status"), attr(c, "topic")};
      }
      if (isAppeal(c, "Deadline")) a.deadlines.push_back({req(c, "kind"), req(c, "due"), req(c, "rule")});
      if (isAppeal(c, "Consent"))
        a.consent = Consent{boolAttr(c, "disclose_identity"), boolAttr(c, "process_personal_data")};
    });
    return a;
  }

  NoticeExpansion notice(const xmlNode* n) {
    NoticeExpansion x;
    x.kind = req(n, "kind");
    x.case_id = req(n, "case_id");
    x.ref_msg_id = attr(n, "ref_msg_id");
    x.new_due = attr(n, "new_due");
    x.competent_org_id = attr(n, "competent_org_id");
    x.article = attr(n, "article");
    forChildren(n, [&](const xmlNode* c) {
      if (isAppeal(c, "Reason")) x.reason = text(c);
    });
    return x;
  }

  // An element serialised on its own, with the namespaces it uses declared on it.
  static std::string standalone(const xmlNode* n) {
    XmlDocPtr copy(xmlNewDoc(xc("1.0")));
    xmlNode* root = xmlDocCopyNode(const_cast<xmlNode*>(n), copy.get(), 1);
    xmlDocSetRootElement(copy.get(), root);
    xmlReconciliateNs(copy.get(), root);
    xmlBufferPtr buf = xmlBufferCreate();
    xmlNodeDump(buf, copy.get(), root, 0, 0);
    std::string s(sv(xmlBufferContent(buf)));
    xmlBufferFree(buf);
    return s;
  }

  Expansion expansion(const xmlNode* n) {
    Expansion e;
    e.organization = req(n, "organization");
    e.exp_ver = req(n, "exp_ver");
    forChildren(n, [&](const xmlNode* c) {
      if (is(c, "Econtact")) {
        e.econtacts.push_back(econtact(c));
      } else if (is(c, "StaticExpansion")) {
        forChildren(c, [&](const xmlNode* g) {
          if (!is(g, "SignInfo")) return;
          SignInfo s;
          s.doc_transfer_idnumber = req(g, "docTransfer_idnumber");
          forChildren(g, [&](const xmlNode* h) {
            if (is(h, "CertificateData")) s.certificate_data = bytes(h, "CertificateData");
            if (is(h, "SigningTime")) s.signing_time = text(h);
            if (is(h, "SignData")) s.sign_data = bytes(h, "SignData of " + s.doc_transfer_idnumber);
          });
          e.sign_infos.push_back(std::move(s));
        });
      } else if (isAppeal(c, "Appeal")) {
        e.appeal = appeal(c);
      } else if (isAppeal(c, "Notice")) {
        e.notice = notice(c);
      } else if (c->ns != nullptr && sv(c->ns->href) == "http://www.w3.org/2000/09/xmldsig#" &&
                 sv(c->name) == "Signature") {
        e.seal_xml = standalone(c);
      } else {
        e.other_xml.push_back(standalone(c));
      }
    });
    return e;
  }

  Acknowledgement acknowledgement(const xmlNode* n) {
    Acknowledgement a;
    forChildren(n, [&](const xmlNode* c) {
      if (is(c, "RegNumber")) a.reg_number = regNumber(c);
      if (is(c, "AckResult")) a.results.push_back({reqInt(c, "errorcode"), req(c, "errortext")});
      if (is(c, "DocTransfer")) a.transfer = docTransfer(c);
    });
    a.msg_id = req(n, "msg_id");
    a.ack_type = reqInt(n, "ack_type");
    return a;
  }

  Header header(const xmlNode* n) {
    Header h;
    h.standart = req(n, "standart");
    h.version = req(n, "version");
    h.charset = req(n, "charset");
    h.time = req(n, "time");
    h.msg_type = reqInt(n, "msg_type");
    h.msg_id = req(n, "msg_id");
    if (auto a = attr(n, "msg_acknow")) h.msg_acknow = std::atoi(a->c_str());
    h.from_org_id = req(n, "from_org_id");
    h.from_organization = req(n, "from_organization");
    h.from_department = attr(n, "from_department");
    h.from_sys_id = req(n, "from_sys_id");
    h.from_system = req(n, "from_system");
    h.from_system_details = attr(n, "from_system_details");
    h.to_org_id = req(n, "to_org_id");
    h.to_organization = req(n, "to_organization");
    h.to_department = attr(n, "to_department");
    h.to_sys_id = req(n, "to_sys_id");
    h.to_system = req(n, "to_system");
    h.to_system_details = attr(n, "to_system_details");
    forChildren(n, [&](const xmlNode* c) {
      if (is(c, "Document")) h.document = document(c);
      if (is(c, "TaskList")) h.task_list = taskList(c);
      if (is(c, "AddDocuments")) h.add_documents = addDocuments(c);
      if (is(c, "Expansion")) h.expansion = expansion(c);
      if (is(c, "Acknowledgement")) h.acknowledgement = acknowledgement(c);
    });
    return h;
  }

 private:
  void fail(SevError code, const std::string& detail) {
    if (!error_) error_ = sevError(code, detail);
  }
  std::optional<Error> error_;
};

}  // namespace

Result<Header> readHeader(xmlDoc* doc) {
  Reader reader;
  Header h = reader.header(xmlDocGetRootElement(doc));
  if (auto s = reader.status(); !s) return s.error();
  return h;
}

}  // namespace vkhid::sev
