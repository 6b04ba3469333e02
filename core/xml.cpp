// config.xml's reader: pugixml (libpugixml-dev) reads the XML; this file turns its tree into
// XmlElements and adds what pugixml leaves to its user: strict entities, one root, no DOCTYPE,
// a depth limit, no repeated attribute, and a FILE:LINE plus the element in every error.
//
// DESIGN: pugixml parses a copy of the text in place with entity decoding and end-of-line
// conversion off, so every name and value it returns points into that copy at the offset it
// has in the file. That gives each element, entity and error its line. Entities are decoded
// here because pugixml keeps unknown ones verbatim and takes &#0; and bare '&'. When pugixml
// stops, it leaves the tree it built so far and an offset; explain() turns the two into the
// same messages (and lines) as the hand-written parser this replaced.
#include "core/xml.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "core/utf8.hpp"

namespace fourinone::core {
namespace {

// parse_fragment keeps text outside the root as nodes, so junk there can be refused;
// parse_ws_pcdata keeps whitespace between comments, which is part of an element's text.
constexpr unsigned kParseOptions = pugi::parse_cdata | pugi::parse_pi | pugi::parse_comments |
                                   pugi::parse_doctype | pugi::parse_declaration | pugi::parse_ws_pcdata |
                                   pugi::parse_fragment | pugi::parse_wconv_attribute;

// Keeps entity names short in error messages when a '&' runs into ordinary text.
constexpr std::size_t kMaxEntityLength = 16;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_quote(char c) { return c == '"' || c == '\''; }

bool is_name_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == ':' ||
         c == '-' || c == '.' || u >= 0x80;
}

std::string trim(std::string_view s) {
  std::size_t begin = 0;
  std::size_t end = s.size();
  while (begin < end && is_space(s[begin])) ++begin;
  while (end > begin && is_space(s[end - 1])) --end;
  return std::string(s.substr(begin, end - begin));
}

// Stops at the first element nested deeper than kMaxXmlDepth (pugixml walks without recursion,
// so a hostile file cannot exhaust the stack here; read_element recurses only after this).
struct DepthCheck : pugi::xml_tree_walker {
  pugi::xml_node too_deep;
  bool for_each(pugi::xml_node& node) override {
    if (node.type() == pugi::node_element && depth() >= kMaxXmlDepth) {  // depth() counts from 0
      too_deep = node;
      return false;
    }
    return true;
  }
};

class Reader {
 public:
  Reader(std::string_view text, const std::string& file_name) : text_(text), file_(file_name) {}

  Result<XmlElement> read() {
    for (std::size_t i = 0; i < text_.size(); ++i) {
      if (text_[i] == '\n') newlines_.push_back(i);
    }
    // pugixml would stop at a NUL and take the rest of the file for its end.
    if (std::size_t nul = text_.find('\0'); nul != std::string_view::npos) {
      return error(nul, "a NUL byte (config.xml is text)");
    }
    buffer_.assign(text_);
    buffer_.push_back('\0');  // pugixml's in-place parse overwrites the last byte
    pugi::xml_parse_result parsed =
        document_.load_buffer_inplace(buffer_.data(), buffer_.size(), kParseOptions, pugi::encoding_utf8);
    DepthCheck depth;
    document_.traverse(depth);
    if (depth.too_deep) {
      return error(depth.too_deep, "elements nested deeper than " + std::to_string(kMaxXmlDepth) + " levels");
    }
    if (!parsed) return explain(parsed);
    return read_document();
  }

 private:
  int line_at(std::size_t offset) const {
    return 1 + static_cast<int>(std::lower_bound(newlines_.begin(), newlines_.end(), offset) - newlines_.begin());
  }
  int line_of(const pugi::xml_node& node) const { return line_at(offset_of(node)); }

  // Where a name or value pugixml returned sits in the file (the end when it is not in the copy,
  // as for the shared empty string of a missing value).
  std::size_t offset_of(const char* p) const {
    if (p < buffer_.data() || p >= buffer_.data() + buffer_.size()) return text_.size();
    return static_cast<std::size_t>(p - buffer_.data());
  }
  std::size_t offset_of(const pugi::xml_node& node) const {
    std::ptrdiff_t offset = node.offset_debug();
    return offset < 0 ? text_.size() : std::min(static_cast<std::size_t>(offset), text_.size());
  }
  // Where the markup `opener` (e.g. "<!--") of `node` starts: pugixml points past it.
  std::size_t start_of(const pugi::xml_node& node, std::string_view opener) const {
    std::size_t found = text_.rfind(opener, offset_of(node));
    return found == std::string_view::npos ? 0 : found;
  }

  Status error(std::size_t offset, const std::string& what) const { return error_on(line_at(offset), what); }
  Status error(const pugi::xml_node& node, const std::string& what) const { return error_on(line_of(node), what); }
  Status error_on(int line, const std::string& what) const {
    return Status(Errc::config_error, file_ + ":" + std::to_string(line) + ": " + what);
  }

  Status refuse_declaration(std::size_t at) const {
    if (text_.substr(at).starts_with("<!DOCTYPE")) {
      // Refused outright: a DTD can define entities, and expanding those is the classic
      // "billion laughs" attack on XML readers.
      return error(at, "DOCTYPE is not allowed in this file");
    }
    return error(at, "unexpected '<!' (only comments <!-- --> and <![CDATA[ ]]> are allowed)");
  }

  // The root, then whatever else is at the top: comments, processing instructions, whitespace.
  Result<XmlElement> read_document() const {
    XmlElement root;
    bool have_root = false;
    for (const pugi::xml_node& node : document_.children()) {
      switch (node.type()) {
        case pugi::node_element:
          if (have_root) return error(node, "a second root element after </" + root.name + "> (a document has one root)");
          if (Status s = read_element(node, root); !s.ok()) return s;
          have_root = true;
          break;
        case pugi::node_pcdata: {
          std::string_view value = node.value();
          std::size_t first = value.find_first_not_of(" \t\r\n");
          if (first == std::string_view::npos) break;
          std::size_t at = offset_of(node.value()) + first;
          if (have_root) return error(at, "junk after the root element </" + root.name + ">");
          return error(at, "text before the root element");
        }
        case pugi::node_cdata:
          return refuse_declaration(start_of(node, "<![CDATA["));
        case pugi::node_doctype:
          return refuse_declaration(start_of(node, "<!DOCTYPE"));
        default:
          break;
      }
    }
    if (!have_root) return error(text_.size(), "no root element");
    return root;
  }

  // REQUIRES: the DepthCheck passed, so this recursion is at most kMaxXmlDepth deep.
  Status read_element(const pugi::xml_node& node, XmlElement& out) const {
    out.name = node.name();
    out.line = line_of(node);
    for (const pugi::xml_attribute& attribute : node.attributes()) {
      std::size_t at = offset_of(attribute.value());
      std::string value;
      if (Status s = decode(attribute.value(), at, attribute.name(), value); !s.ok()) return s;
      if (!out.attributes.emplace(attribute.name(), std::move(value)).second) {
        return error(at, std::string("attribute ") + attribute.name() + " appears twice in <" + out.name + ">");
      }
    }
    std::string text;
    for (const pugi::xml_node& child : node.children()) {
      switch (child.type()) {
        case pugi::node_element: {
          XmlElement element;
          if (Status s = read_element(child, element); !s.ok()) return s;
          out.children.push_back(std::move(element));
          break;
        }
        case pugi::node_pcdata:
          if (Status s = decode(child.value(), offset_of(child.value()), nullptr, text); !s.ok()) return s;
          break;
        case pugi::node_cdata:
          text += child.value();
          break;
        case pugi::node_doctype:
          return refuse_declaration(start_of(child, "<!DOCTYPE"));
        default:  // comments and processing instructions
          break;
      }
    }
    out.text = trim(text);
    return Status();
  }

  // Appends `raw` (text, or the value of `attribute`; at offset `at` of the file) to out with its entities and character references decoded.
  Status decode(std::string_view raw, std::size_t at, const char* attribute, std::string& out) const {
    for (std::size_t i = 0; i < raw.size();) {
      char c = raw[i];
      if (c == '<' && attribute != nullptr) {
        return error(at + i, std::string("'<' inside the value of attribute ") + attribute + " (write &lt;)");
      }
      if (c != '&') {
        out += c;
        ++i;
        continue;
      }
      std::size_t semicolon = raw.find(';', i);
      if (semicolon == std::string_view::npos || semicolon - i > kMaxEntityLength) {
        return error(at + i, "a bare '&' (write &amp; for an ampersand)");
      }
      std::string_view name = raw.substr(i + 1, semicolon - i - 1);
      if (name == "lt") {
        out += '<';
      } else if (name == "gt") {
        out += '>';
      } else if (name == "amp") {
        out += '&';
      } else if (name == "quot") {
        out += '"';
      } else if (name == "apos") {
        out += '\'';
      } else if (name.starts_with('#')) {
        if (!append_char_reference(name, out)) {
          return error(at + i, "bad character reference &" + std::string(name) + ";");
        }
      } else {
        return error(at + i, "unknown entity &" + std::string(name) + ";");
      }
      i = semicolon + 1;
    }
    return Status();
  }

  static bool append_char_reference(std::string_view name, std::string& out) {
    bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
    std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty()) return false;
    std::uint32_t cp = 0;
    for (char c : digits) {
      std::uint32_t d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<std::uint32_t>(c - '0');
      } else if (hex && c >= 'a' && c <= 'f') {
        d = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (hex && c >= 'A' && c <= 'F') {
        d = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
      cp = cp * (hex ? 16 : 10) + d;
      if (cp > 0x10FFFF) return false;
    }
    // NUL and the UTF-16 surrogate halves are not characters.
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    append_utf8(out, cp);
    return true;
  }

  // --- When pugixml stops: what it was reading, in the words of config.xml's errors. ---

  // The last node pugixml made, and the elements on the way down to it; the element being read
  // when it stopped is one of those.
  pugi::xml_node last_node() const {
    pugi::xml_node node = document_;
    while (node.last_child()) node = node.last_child();
    return node == document_ ? pugi::xml_node() : node;
  }
  std::vector<pugi::xml_node> element_path() const {
    std::vector<pugi::xml_node> path;
    for (pugi::xml_node node = document_.last_child(); node; node = node.last_child()) {
      if (node.type() == pugi::node_element) path.push_back(node);
    }
    return path;
  }
  pugi::xml_node deepest_element() const {
    std::vector<pugi::xml_node> path = element_path();
    return path.empty() ? pugi::xml_node() : path.back();
  }
  std::string name_at(std::size_t at) const {
    std::size_t end = at;
    while (end < text_.size() && is_name_char(text_[end])) ++end;
    return std::string(text_.substr(at, end - at));
  }
  std::size_t start_of_last(pugi::xml_node_type type, std::string_view opener, std::size_t at) const {
    pugi::xml_node last = last_node();
    if (last && last.type() == type) return start_of(last, opener);
    std::size_t found = text_.rfind(opener, at);
    return found == std::string_view::npos ? at : found;
  }

  Status explain(const pugi::xml_parse_result& parsed) const {
    std::size_t at = std::min(static_cast<std::size_t>(std::max<std::ptrdiff_t>(parsed.offset, 0)), text_.size());
    switch (parsed.status) {
      case pugi::status_bad_comment:
        return error(start_of_last(pugi::node_comment, "<!--", at), "unterminated comment: <!-- without -->");
      case pugi::status_bad_cdata:
        return error(start_of_last(pugi::node_cdata, "<![CDATA[", at),
                     "unterminated CDATA section: <![CDATA[ without ]]>");
      case pugi::status_bad_pi: {
        pugi::xml_node last = last_node();
        std::size_t start = last && (last.type() == pugi::node_pi || last.type() == pugi::node_declaration)
                                ? start_of(last, "<?")
                                : start_of_last(pugi::node_pi, "<?", at);
        if (text_.find("?>", start) == std::string_view::npos) {
          return error(start, "unterminated processing instruction: <? without ?>");
        }
        return error(start, "bad processing instruction (<?xml ...?> may only open the file)");
      }
      case pugi::status_bad_doctype:
      case pugi::status_unrecognized_tag: {
        std::size_t lt = text_.rfind('<', at);
        if (lt != std::string_view::npos && text_.substr(lt).starts_with("<!")) return refuse_declaration(lt);
        return error(at, "expected an element name after '<'");
      }
      case pugi::status_bad_start_element:
        return explain_start_tag(at);
      case pugi::status_bad_attribute:
        return explain_attribute(at);
      case pugi::status_bad_end_element: {
        std::size_t slash = text_.rfind("</", at);
        std::string name = slash == std::string_view::npos ? std::string() : name_at(slash + 2);
        if (name.empty()) return error(at, "expected an element name after '</'");
        return error(at, "expected '>' to end the close tag </" + name + ">");
      }
      case pugi::status_end_element_mismatch:
        return explain_mismatch(at);
      default:
        return error(at, parsed.description());
    }
  }

  // pugixml stopped inside the open tag of the last element it made.
  Status explain_start_tag(std::size_t at) const {
    pugi::xml_node element = deepest_element();
    std::string tag = std::string("<") + element.name() + ">";
    if (text_.find('>', at) == std::string_view::npos) return error(element, "unterminated tag " + tag);
    if (at > 0 && is_space(text_[at - 1])) return error(at, "expected an attribute name or '>' in tag " + tag);
    return error(at, "expected whitespace, '>' or '/>' in tag " + tag);
  }

  // pugixml stopped inside the open tag of the last element it made, in or after its last
  // attribute (pugixml makes an attribute as soon as it has read the name).
  Status explain_attribute(std::size_t at) const {
    pugi::xml_node element = deepest_element();
    std::string tag = std::string("<") + element.name() + ">";
    if (pugi::xml_attribute attribute = element.last_attribute()) {
      std::string name = attribute.name();
      std::size_t p = offset_of(attribute.name()) + name.size();
      while (p < text_.size() && is_space(text_[p])) ++p;
      if (p >= text_.size() || text_[p] != '=') {
        return error(p, "attribute " + name + " of " + tag + " needs '=' and a quoted value");
      }
      ++p;
      while (p < text_.size() && is_space(text_[p])) ++p;
      if (p >= text_.size() || !is_quote(text_[p])) {
        return error(p, "attribute " + name + " of " + tag + " needs a quoted value");
      }
      if (text_.find(text_[p], p + 1) == std::string_view::npos) {
        return error(p, "unterminated value of attribute " + name + " in " + tag);
      }
      // The attribute is whole: what stopped pugixml comes after it.
    }
    if (at > 0 && is_quote(text_[at - 1])) return error(at, "expected whitespace, '>' or '/>' in tag " + tag);
    if (text_.find('>', at) == std::string_view::npos) return error(element, "unterminated tag " + tag);
    return error(at, "expected an attribute name or '>' in tag " + tag);
  }

  // A close tag that is not the open element's, or the end of the file with elements open.
  Status explain_mismatch(std::size_t at) const {
    bool at_close_tag = at >= 2 && at < text_.size() && text_.substr(at - 2, 2) == "</";
    pugi::xml_node open = innermost_open(at_close_tag ? at - 2 : text_.size());
    if (!at_close_tag) {
      if (!open) return error(at, "unexpected end of the file");
      return error(open, std::string("element <") + open.name() + "> is never closed");
    }
    std::string name = name_at(at);
    if (name.empty()) return error(at, "expected an element name after '</'");
    if (!open) {
      // Every element is closed: this close tag follows the root.
      pugi::xml_node root = document_.find_child([](pugi::xml_node n) { return n.type() == pugi::node_element; });
      return error(at, std::string("junk after the root element </") + root.name() + ">");
    }
    return error(at, "close tag </" + name + "> does not match open tag <" + open.name() + "> from line " +
                         std::to_string(line_of(open)));
  }

  // The element still open at offset `cut`. The open elements are the first k of
  // element_path(): k is the one count for which closing that many makes text[0, cut) parse.
  pugi::xml_node innermost_open(std::size_t cut) const {
    std::vector<pugi::xml_node> path = element_path();  // at most kMaxXmlDepth (DepthCheck)
    for (std::size_t k = path.size(); k > 0; --k) {
      std::string probe(text_.substr(0, cut));
      for (std::size_t i = k; i-- > 0;) probe += std::string("</") + path[i].name() + ">";
      probe.push_back('\0');
      pugi::xml_document document;
      if (document.load_buffer_inplace(probe.data(), probe.size(), kParseOptions, pugi::encoding_utf8)) {
        return path[k - 1];
      }
    }
    return pugi::xml_node();
  }

  std::string_view text_;
  const std::string& file_;
  std::vector<std::size_t> newlines_;  // offsets of every '\n', ascending
  std::string buffer_;                 // the copy pugixml parses in place; document_ points into it
  pugi::xml_document document_;
};

}  // namespace

const XmlElement* XmlElement::find_child(std::string_view child_name) const {
  for (const auto& child : children) {
    if (child.name == child_name) return &child;
  }
  return nullptr;
}

const std::string* XmlElement::find_attribute(const std::string& attribute_name) const {
  auto it = attributes.find(attribute_name);
  return it == attributes.end() ? nullptr : &it->second;
}

Result<XmlElement> parse_xml(std::string_view text, const std::string& file_name) {
  return Reader(text, file_name).read();
}

}  // namespace fourinone::core
