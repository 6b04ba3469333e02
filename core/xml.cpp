// The XML reader behind config.xml: a recursive-descent parser over the whole text, counting
// lines as it goes so every element and every error carries the line it belongs to.
#include "core/xml.hpp"

#include <cstdint>
#include <utility>

#include "core/utf8.hpp"

namespace fourinone::core {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_name_start(char c) {
  // Bytes of multi-byte UTF-8 sequences count as letters: XML allows most non-ASCII names.
  auto u = static_cast<unsigned char>(c);
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || u >= 0x80;
}

bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

std::string trim(std::string_view s) {
  std::size_t begin = 0;
  std::size_t end = s.size();
  while (begin < end && is_space(s[begin])) ++begin;
  while (end > begin && is_space(s[end - 1])) --end;
  return std::string(s.substr(begin, end - begin));
}

// Keeps entity names short in error messages when a '&' runs into ordinary text.
constexpr std::size_t kMaxEntityLength = 16;

class Parser {
 public:
  Parser(std::string_view text, const std::string& file_name) : text_(text), file_(file_name) {}

  Result<XmlElement> parse_document() {
    if (looking_at("\xEF\xBB\xBF")) pos_ += 3;  // a UTF-8 byte order mark
    if (Status s = skip_misc(/*after_root=*/false, ""); !s.ok()) return s;
    if (at_end()) return error(line_, "no root element");
    XmlElement root;
    if (Status s = parse_element(root, 1); !s.ok()) return s;
    if (Status s = skip_misc(/*after_root=*/true, root.name); !s.ok()) return s;
    return root;
  }

 private:
  Status error(int line, const std::string& what) const {
    return Status(Errc::config_error, file_ + ":" + std::to_string(line) + ": " + what);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  bool looking_at(std::string_view s) const { return text_.substr(pos_).starts_with(s); }

  void advance(std::size_t n = 1) {
    for (std::size_t i = 0; i < n && !at_end(); ++i, ++pos_) {
      if (text_[pos_] == '\n') ++line_;
    }
  }

  bool skip_space() {
    std::size_t start = pos_;
    while (!at_end() && is_space(peek())) advance();
    return pos_ != start;
  }

  // Moves past `terminator`, which must occur before the end; returns false (and does not
  // move) when it does not.
  bool skip_past(std::string_view terminator) {
    std::size_t found = text_.find(terminator, pos_);
    if (found == std::string_view::npos) return false;
    advance(found + terminator.size() - pos_);
    return true;
  }

  // Whitespace, comments and processing instructions before or after the root element.
  Status skip_misc(bool after_root, const std::string& root_name) {
    for (;;) {
      skip_space();
      if (at_end()) return Status();
      if (looking_at("<!--")) {
        if (Status s = skip_comment(); !s.ok()) return s;
      } else if (looking_at("<?")) {
        if (Status s = skip_processing_instruction(); !s.ok()) return s;
      } else if (looking_at("<!")) {
        return refuse_declaration();
      } else if (!after_root) {
        if (peek() == '<') return Status();
        return error(line_, "text before the root element");
      } else if (peek() == '<' && pos_ + 1 < text_.size() && is_name_start(text_[pos_ + 1])) {
        return error(line_, "a second root element after </" + root_name + "> (a document has one root)");
      } else {
        return error(line_, "junk after the root element </" + root_name + ">");
      }
    }
  }

  Status refuse_declaration() {
    if (looking_at("<!DOCTYPE")) {
      // Refused outright: a DTD can define entities, and expanding those is the classic
      // "billion laughs" attack on XML readers.
      return error(line_, "DOCTYPE is not allowed in this file");
    }
    return error(line_, "unexpected '<!' (only comments <!-- --> and <![CDATA[ ]]> are allowed)");
  }

  Status skip_comment() {
    int start = line_;
    advance(4);
    if (!skip_past("-->")) return error(start, "unterminated comment: <!-- without -->");
    return Status();
  }

  Status skip_processing_instruction() {
    int start = line_;
    advance(2);
    if (!skip_past("?>")) return error(start, "unterminated processing instruction: <? without ?>");
    return Status();
  }

  Status parse_cdata(std::string& out) {
    int start = line_;
    advance(9);  // <![CDATA[
    std::size_t end = text_.find("]]>", pos_);
    if (end == std::string_view::npos) return error(start, "unterminated CDATA section: <![CDATA[ without ]]>");
    out += text_.substr(pos_, end - pos_);
    advance(end + 3 - pos_);
    return Status();
  }

  Status parse_name(std::string& out, const std::string& what) {
    if (at_end() || !is_name_start(peek())) return error(line_, "expected " + what);
    std::size_t start = pos_;
    while (!at_end() && is_name_char(peek())) advance();
    out.assign(text_.substr(start, pos_ - start));
    return Status();
  }

  // At '&': decodes one entity or character reference into out.
  Status parse_entity(std::string& out) {
    std::size_t semicolon = text_.find(';', pos_);
    if (semicolon == std::string_view::npos || semicolon - pos_ > kMaxEntityLength) {
      return error(line_, "a bare '&' (write &amp; for an ampersand)");
    }
    std::string_view name = text_.substr(pos_ + 1, semicolon - pos_ - 1);
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
      if (Status s = parse_char_reference(name, out); !s.ok()) return s;
    } else {
      return error(line_, "unknown entity &" + std::string(name) + ";");
    }
    advance(semicolon + 1 - pos_);
    return Status();
  }

  Status parse_char_reference(std::string_view name, std::string& out) {
    bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
    std::string_view digits = name.substr(hex ? 2 : 1);
    std::uint32_t cp = 0;
    bool ok = !digits.empty();
    for (char c : digits) {
      std::uint32_t d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<std::uint32_t>(c - '0');
      } else if (hex && c >= 'a' && c <= 'f') {
        d = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (hex && c >= 'A' && c <= 'F') {
        d = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        ok = false;
        break;
      }
      cp = cp * (hex ? 16 : 10) + d;
      if (cp > 0x10FFFF) {
        ok = false;
        break;
      }
    }
    // NUL and the UTF-16 surrogate halves are not characters.
    if (!ok || cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return error(line_, "bad character reference &" + std::string(name) + ";");
    }
    append_utf8(out, cp);
    return Status();
  }

  Status parse_attribute_value(const XmlElement& element, const std::string& attribute, std::string& out) {
    char quote = peek();
    if (quote != '"' && quote != '\'') {
      return error(line_, "attribute " + attribute + " of <" + element.name + "> needs a quoted value");
    }
    int start = line_;
    advance();
    for (;;) {
      if (at_end()) return error(start, "unterminated value of attribute " + attribute + " in <" + element.name + ">");
      char c = peek();
      if (c == quote) break;
      if (c == '<') return error(line_, "'<' inside the value of attribute " + attribute + " (write &lt;)");
      if (c == '&') {
        if (Status s = parse_entity(out); !s.ok()) return s;
        continue;
      }
      // XML normalises literal line breaks and tabs in attribute values to spaces.
      out += is_space(c) ? ' ' : c;
      advance();
    }
    advance();
    return Status();
  }

  // After the element name: attributes up to '>' or '/>'.
  Status parse_attributes(XmlElement& element, bool& self_closing) {
    for (;;) {
      bool had_space = skip_space();
      if (at_end()) return error(element.line, "unterminated tag <" + element.name + ">");
      if (looking_at("/>")) {
        advance(2);
        self_closing = true;
        return Status();
      }
      if (peek() == '>') {
        advance();
        self_closing = false;
        return Status();
      }
      if (!had_space) return error(line_, "expected whitespace, '>' or '/>' in tag <" + element.name + ">");
      std::string attribute;
      if (Status s = parse_name(attribute, "an attribute name or '>' in tag <" + element.name + ">"); !s.ok()) {
        return s;
      }
      skip_space();
      if (peek() != '=') {
        return error(line_, "attribute " + attribute + " of <" + element.name + "> needs '=' and a quoted value");
      }
      advance();
      skip_space();
      std::string value;
      if (Status s = parse_attribute_value(element, attribute, value); !s.ok()) return s;
      if (!element.attributes.emplace(attribute, std::move(value)).second) {
        return error(line_, "attribute " + attribute + " appears twice in <" + element.name + ">");
      }
    }
  }

  // At '<' of an open tag; reads through the matching close tag.
  Status parse_element(XmlElement& element, int depth) {
    element.line = line_;
    if (depth > kMaxXmlDepth) {
      return error(line_, "elements nested deeper than " + std::to_string(kMaxXmlDepth) + " levels");
    }
    advance();
    if (Status s = parse_name(element.name, "an element name after '<'"); !s.ok()) return s;
    bool self_closing = false;
    if (Status s = parse_attributes(element, self_closing); !s.ok()) return s;
    if (self_closing) return Status();

    std::string text;
    for (;;) {
      if (at_end()) return error(element.line, "element <" + element.name + "> is never closed");
      char c = peek();
      if (c == '&') {
        if (Status s = parse_entity(text); !s.ok()) return s;
      } else if (c != '<') {
        text += c;
        advance();
      } else if (looking_at("</")) {
        return parse_close_tag(element, std::move(text));
      } else if (looking_at("<!--")) {
        if (Status s = skip_comment(); !s.ok()) return s;
      } else if (looking_at("<![CDATA[")) {
        if (Status s = parse_cdata(text); !s.ok()) return s;
      } else if (looking_at("<?")) {
        if (Status s = skip_processing_instruction(); !s.ok()) return s;
      } else if (looking_at("<!")) {
        return refuse_declaration();
      } else {
        XmlElement child;
        if (Status s = parse_element(child, depth + 1); !s.ok()) return s;
        element.children.push_back(std::move(child));
      }
    }
  }

  Status parse_close_tag(XmlElement& element, std::string text) {
    int line = line_;
    advance(2);
    std::string name;
    if (Status s = parse_name(name, "an element name after '</'"); !s.ok()) return s;
    skip_space();
    if (peek() != '>') return error(line_, "expected '>' to end the close tag </" + name + ">");
    advance();
    if (name != element.name) {
      return error(line, "close tag </" + name + "> does not match open tag <" + element.name + "> from line " +
                             std::to_string(element.line));
    }
    element.text = trim(text);
    return Status();
  }

  std::string_view text_;
  const std::string& file_;
  std::size_t pos_ = 0;
  int line_ = 1;
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
  return Parser(text, file_name).parse_document();
}

}  // namespace fourinone::core
