// config.xml's XML reader (DESIGN §6): pugixml parses; xml.cpp makes it strict and line-exact.
//
// It reads one document into a tree of XmlElement values: an optional <?xml ...?> declaration
// and other processing instructions (skipped), comments, elements with attributes in single or
// double quotes, text, self-closing tags, CDATA, and the entities &lt; &gt; &amp; &quot; &apos;
// &#N; &#xN;. It refuses DOCTYPE and every other <!...> declaration, so no entity expansion
// attack can get in, and it limits the nesting depth so a hostile file cannot exhaust the stack.
// Namespaces are not interpreted: a prefixed name such as a:b is just a name.
//
// parse_xml() is a pure function and thread-safe; XmlElement is a plain value type.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fourinone/error.hpp"

namespace fourinone::core {

// Deeper documents are refused: config.xml needs three levels.
inline constexpr int kMaxXmlDepth = 64;

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attributes;  // entities already decoded
  std::string text;                               // all text and CDATA inside, trimmed
  std::vector<XmlElement> children;               // in document order
  int line = 0;                                   // 1-based line of the element's '<'

  // The first child called `child_name`, or nullptr. The pointer lives as long as this element.
  const XmlElement* find_child(std::string_view child_name) const;
  // The attribute's value, or nullptr.
  const std::string* find_attribute(const std::string& attribute_name) const;
};

// Parses a whole document and returns its root element.
// Errors: config_error "FILE:LINE: what is wrong" (file_name is used only in the message), e.g.
// a close tag that does not match its open tag (both are named), an unterminated comment or
// CDATA (reported on the line it starts), an unknown entity, text or a second element after the
// root, a DOCTYPE, a NUL byte, or elements nested deeper than kMaxXmlDepth. When a file has
// several problems, the one reported is not always the first in the file.
Result<XmlElement> parse_xml(std::string_view text, const std::string& file_name);

}  // namespace fourinone::core
