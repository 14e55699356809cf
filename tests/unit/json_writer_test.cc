#include "engine/json_writer.h"

#include <gtest/gtest.h>

namespace rms {
namespace {

TEST(JsonWriterTest, WritesNestedCompactJson) {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("ok");
    w.Bool(true);
    w.Key("id");
    w.String("I-1");
    w.Key("list");
    w.BeginArray();
    w.Int(1);
    w.Null();
    w.BeginObject();
    w.EndObject();
    w.EndArray();
    w.Key("dso");
    w.Fixed(12.345678, 4);
    w.EndObject();
    EXPECT_EQ(out, R"({"ok":true,"id":"I-1","list":[1,null,{}],"dso":12.3457})");
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharacters) {
    std::string out;
    JsonWriter::AppendQuoted(&out, std::string("a\"b\\c\nd\x01", 8));
    EXPECT_EQ(out, R"("a\"b\\c\nd\u0001")");
}

TEST(JsonWriterTest, NonFiniteNumbersBecomeNull) {
    std::string out;
    JsonWriter w(&out);
    w.BeginArray();
    w.Fixed(1.0 / 0.0, 2);
    w.EndArray();
    EXPECT_EQ(out, "[null]");
}

}  // namespace
}  // namespace rms

namespace rms {
namespace {

TEST(JsonWriterTest, InvalidUtf8BecomesReplacementCharacters) {
    std::string out;
    // A lone 0xFF, a truncated two-byte sequence, an encoded surrogate, then valid "é" and "😀".
    JsonWriter::AppendQuoted(&out,
                             "a\xff"
                             "b\xc3"
                             "c\xed\xa0\x80"
                             "d\xc3\xa9\xf0\x9f\x98\x80");
    EXPECT_EQ(out, "\"a\\ufffdb\\ufffdc\\ufffd\\ufffd\\ufffdd\xc3\xa9\xf0\x9f\x98\x80\"");
}

}  // namespace
}  // namespace rms

namespace rms {
namespace {

TEST(JsonWriterTest, HugeNumbersAreWrittenWhole) {
    std::string out;
    JsonWriter w(&out);
    w.Fixed(1e300, 4);
    EXPECT_EQ(out.size(), 301u + 5u);  // 301 digits, the point and 4 decimals
    EXPECT_EQ(out.substr(0, 2), "10");
}

}  // namespace
}  // namespace rms
