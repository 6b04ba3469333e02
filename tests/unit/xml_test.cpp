// The config.xml reader: what it accepts, and the file:line of everything it refuses.
#include "core/xml.hpp"

#include <doctest/doctest.h>

#include <string>

using fourinone::Errc;
using fourinone::core::parse_xml;
using fourinone::core::XmlElement;

namespace {

XmlElement parse_ok(std::string_view text) {
  auto r = parse_xml(text, "t.xml");
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  return *r;
}

// The message must start with "t.xml:LINE: " and mention `what`.
void check_refused(std::string_view text, int line, const std::string& what) {
  auto r = parse_xml(text, "t.xml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Errc::config_error);
  const std::string& message = r.status().message();
  INFO(message);
  CHECK(message.rfind("t.xml:" + std::to_string(line) + ": ", 0) == 0);
  CHECK(message.find(what) != std::string::npos);
}

}  // namespace

TEST_CASE("nested elements, attributes and trimmed text are read into a tree") {
  auto root = parse_ok(R"(<?xml version="1.0" encoding="UTF-8"?>
<TABLE version="2" kind='rows'>
  <ROW DESC="PARK">
    <SERVERS>  localhost:1888 </SERVERS>
    <EMPTY/>
    <EMPTY2 a = "1" />
  </ROW>
</TABLE>
)");
  CHECK(root.name == "TABLE");
  CHECK(root.attributes.at("version") == "2");
  CHECK(root.attributes.at("kind") == "rows");
  CHECK(root.text.empty());
  REQUIRE(root.children.size() == 1);
  const XmlElement& row = root.children[0];
  CHECK(*row.find_attribute("DESC") == "PARK");
  CHECK(row.find_attribute("NOPE") == nullptr);
  REQUIRE(row.children.size() == 3);
  CHECK(row.find_child("SERVERS")->text == "localhost:1888");
  CHECK(row.find_child("EMPTY")->children.empty());
  CHECK(row.find_child("EMPTY")->text.empty());
  CHECK(row.find_child("EMPTY2")->attributes.at("a") == "1");
  CHECK(row.find_child("MISSING") == nullptr);
}

TEST_CASE("each element records the line its open tag starts on") {
  auto root = parse_ok("<!-- one\ntwo -->\n<A>\n\n  <B>x</B><C\n  a='1'/>\n</A>");
  CHECK(root.line == 3);
  REQUIRE(root.children.size() == 2);
  CHECK(root.children[0].line == 5);
  CHECK(root.children[1].line == 5);
}

TEST_CASE("entities and character references are decoded in text and attributes") {
  auto root = parse_ok(
      R"(<A v="&lt;&gt;&amp;&quot;&apos;">a &lt; b &amp;&amp; c &gt; d &#65;&#x42;&#xe9;&#8364;&#x1F600;</A>)");
  CHECK(root.attributes.at("v") == "<>&\"'");
  CHECK(root.text == "a < b && c > d AB\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}

TEST_CASE("comments, processing instructions and CDATA are handled inside elements") {
  auto root =
      parse_ok("<A>one<!-- <B>not an element</B> -->two<?pi stuff?><![CDATA[ <raw> & ]]></A>\n<!-- after -->\n");
  CHECK(root.children.empty());
  CHECK(root.text == "onetwo <raw> &");
}

TEST_CASE("line breaks and tabs inside attribute values become spaces") {
  auto root = parse_ok("<A v=\"a\nb\tc\"/>");
  CHECK(root.attributes.at("v") == "a b c");
}

TEST_CASE("a UTF-8 byte order mark before the declaration is skipped") {
  auto root = parse_ok("\xEF\xBB\xBF<?xml version=\"1.0\"?><A/>");
  CHECK(root.name == "A");
}

TEST_CASE("a close tag that does not match names both tags and the close tag's line") {
  check_refused("<A>\n  <B>\n  </C>\n</A>", 3, "close tag </C> does not match open tag <B> from line 2");
}

TEST_CASE("an unterminated comment is reported on the line it starts") {
  check_refused("<A>\n<!-- open\n\n", 2, "unterminated comment");
  check_refused("\n<!-- before the root", 2, "unterminated comment");
}

TEST_CASE("anything after the root element is refused") {
  check_refused("<A/>\n\njunk", 3, "junk after the root element </A>");
  check_refused("<A></A>\n<B/>", 2, "a second root element");
  check_refused("<A/></A>", 1, "junk after the root element");
}

TEST_CASE("a DOCTYPE is refused so no entity can be defined") {
  check_refused("<?xml version=\"1.0\"?>\n<!DOCTYPE lol [<!ENTITY a \"aaaa\">]>\n<A>&a;</A>", 2, "DOCTYPE");
  check_refused("<A>\n<!ENTITY x \"y\"></A>", 2, "unexpected '<!'");
}

TEST_CASE("unknown entities, bare ampersands and bad character references are refused") {
  check_refused("<A>\n&nbsp;</A>", 2, "unknown entity &nbsp;");
  check_refused("<A>\nfish & chips</A>", 2, "bare '&'");
  check_refused("<A>&#0;</A>", 1, "bad character reference");
  check_refused("<A>&#xD800;</A>", 1, "bad character reference");
  check_refused("<A>&#x110000;</A>", 1, "bad character reference");
  check_refused("<A>&#12a;</A>", 1, "bad character reference");
  check_refused("<A v=\"&bogus;\"/>", 1, "unknown entity");
}

TEST_CASE("broken tags and attributes are refused on their line") {
  check_refused("<A>\n<B v=\"1\n\n", 2, "unterminated value of attribute v");
  check_refused("<A\n v='1' v='2'/>", 2, "attribute v appears twice");
  check_refused("<A v=1/>", 1, "needs a quoted value");
  check_refused("<A v/>", 1, "needs '='");
  check_refused("<A v='<'/>", 1, "'<' inside the value");
  check_refused("<A v='1'w='2'/>", 1, "expected whitespace");
  check_refused("<A>\n<1B/></A>", 2, "expected an element name");
  check_refused("<A>\n<B", 2, "unterminated tag <B>");
  check_refused("<A>\n</A", 2, "expected '>' to end the close tag </A>");
}

TEST_CASE("an element that is never closed is reported on its open tag's line") {
  check_refused("<A>\n  <B>\n  text", 2, "element <B> is never closed");
}

TEST_CASE("unterminated CDATA and processing instructions are refused") {
  check_refused("<A>\n<![CDATA[ never ends</A>", 2, "unterminated CDATA");
  check_refused("<?xml version='1.0'\n<A/>", 1, "unterminated processing instruction");
}

TEST_CASE("an empty document or text before the root is refused") {
  check_refused("", 1, "no root element");
  check_refused("  \n <!-- only a comment -->\n", 3, "no root element");
  check_refused("hello <A/>", 1, "text before the root element");
}

TEST_CASE("nesting deeper than the limit is refused, nesting up to it is fine") {
  auto nest = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "<E>";
    for (int i = 0; i < depth; ++i) s += "</E>";
    return s;
  };
  CHECK(parse_xml(nest(fourinone::core::kMaxXmlDepth), "t.xml").ok());
  check_refused(nest(fourinone::core::kMaxXmlDepth + 1), 1, "nested deeper than");
  // A hostile file with far deeper nesting is refused just the same, without exhausting the stack.
  std::string hostile;
  for (int i = 0; i < 100000; ++i) hostile += "<E>";
  check_refused(hostile, 1, "nested deeper than");
}

// The reader is pugixml plus our checks (issue 18); these pin the lines and text it derives from
// pugixml's offsets and partial trees.
TEST_CASE("lines stay right after multi-line CDATA, comments and a byte order mark") {
  auto root = parse_ok("\xEF\xBB\xBF<A>\n<![CDATA[one\ntwo\n]]><!--\n\n--><B/>\n  <C\n/></A>");
  CHECK(root.line == 1);
  REQUIRE(root.children.size() == 2);
  CHECK(root.children[0].line == 6);
  CHECK(root.children[1].line == 7);
  CHECK(root.text == "one\ntwo");
  check_refused("<A><![CDATA[\n\n]]>\n<B>&bogus;</B></A>", 4, "unknown entity &bogus;");
  check_refused("<A>\n<!--\n-->\ntext &nbsp;</A>", 4, "unknown entity &nbsp;");
  check_refused("<A v='1'\n\n w='&#0;'/>", 3, "bad character reference &#0;");
}

TEST_CASE("whitespace between comments is part of an element's text") {
  CHECK(parse_ok("<A>a<!--c-->  <!--d-->b</A>").text == "a  b");
}

TEST_CASE("the element left open is found even when a closed child has its name") {
  check_refused("<ROW>\n<ROW/>\n", 1, "element <ROW> is never closed");
  check_refused("<A>\n<B>\n<B></B>\n</C>", 4, "close tag </C> does not match open tag <B> from line 2");
  check_refused("<A>\n<B/></A>\n</A>", 3, "junk after the root element </A>");
}

TEST_CASE("a NUL byte is refused rather than taken for the end of the file") {
  check_refused(std::string_view("<A/>\n\0junk", 10), 2, "a NUL byte");
}
