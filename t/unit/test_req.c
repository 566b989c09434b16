/* lib/riap_req: request keys, types, versions, per-action keys */
#include "unit.h"
#include "riap_req.h"

static int parse(const char *json, char *msg, struct riap_req *r)
{
  int st = riap_req_parse(r, json, strlen(json), msg);
  return st;
}

#define EXPECT(json, status, what) do { \
    struct riap_req r_; char m_[RIAP_REQ_MSGMAX] = ""; \
    int st_ = parse(json, m_, &r_); \
    CHECK(st_ == (status), what); \
    if (st_ != (status)) printf("#   status %d: %s\n", st_, m_); \
    riap_req_free(&r_); \
  } while (0)

#define EXPECT_MSG(json, status, message, what) do { \
    struct riap_req r_; char m_[RIAP_REQ_MSGMAX] = ""; \
    int st_ = parse(json, m_, &r_); \
    CHECK(st_ == (status), what); \
    CHECK_STR(m_, message, what " (message)"); \
    riap_req_free(&r_); \
  } while (0)

/* n bytes, NULs included */
#define EXPECTN_MSG(json, n, status, message, what) do { \
    struct riap_req r_; char m_[RIAP_REQ_MSGMAX] = ""; \
    int st_ = riap_req_parse(&r_, json, n, m_); \
    CHECK(st_ == (status), what); \
    CHECK_STR(m_, message, what " (message)"); \
    riap_req_free(&r_); \
  } while (0)

int main(void)
{
  struct riap_req r;
  char msg[RIAP_REQ_MSGMAX];

  CHECK(parse("{\"action\":\"call\",\"uri\":\"/M/f\",\"args\":{\"a\":1},\"v\":1.2}", msg, &r) == 0, "a call parses");
  CHECK(r.action == RIAP_A_CALL && r.v12 && json_is_object(r.args) && r.uri_len == 4, "fields are taken");
  riap_req_free(&r);
  CHECK(parse("{\"action\":\"list\",\"uri\":\"/\",\"detail\":1,\"recursive\":true,\"q\":\"x\",\"type\":\"function\"}", msg, &r) == 0,
        "a list with its keys parses");
  CHECK(r.detail && r.recursive && !strcmp(r.q, "x") && !strcmp(r.type, "function") && !r.v12, "list keys taken, v 1.1");
  riap_req_free(&r);

  EXPECT_MSG("{\"uri\":\"/\"}", 400, "Please specify action", "missing action");
  EXPECT_MSG("{\"action\":\"info\"}", 400, "Please specify uri", "missing uri");
  EXPECT_MSG("[1]", 400, "Invalid request (not hash)", "an array is not a request");
  EXPECT_MSG("\"x\"", 400, "Invalid request (not hash)", "a string is not a request");
  EXPECT("{\"action\":", 400, "broken JSON");
  EXPECT("{\"action\":\"info\",\"action\":\"meta\",\"uri\":\"/\"}", 400, "duplicate keys");
  EXPECT("{\"action\":\"info\",\"uri\":\"/\",\"v\":2.0}", 501, "v 2.0 is not served");
  EXPECT("{\"action\":\"info\",\"uri\":\"/\",\"v\":1}", 501, "v 1 is not served");
  CHECK(parse("{\"action\":\"info\",\"uri\":\"/\",\"v\":\"1.2\"}", msg, &r) == 0 && r.v12, "v as a numeric string \"1.2\" is 1.2");
  riap_req_free(&r);
  CHECK(parse("{\"action\":\"info\",\"uri\":\"/\",\"v\":\"1.1\"}", msg, &r) == 0 && !r.v12, "v \"1.1\" is 1.1");
  riap_req_free(&r);
  EXPECT("{\"action\":\"info\",\"uri\":\"/\",\"v\":\"1.3\"}", 501, "v \"1.3\" is not served");
  EXPECT("{\"action\":\"info\",\"uri\":\"/\",\"v\":\"one\"}", 400, "v must be a number or a numeric string");
  EXPECT("{\"action\":\"info\",\"uri\":\"/\",\"v\":\"1.2x\"}", 400, "v \"1.2x\" is not numeric");
  CHECK(parse("{\"action\":\"info\",\"uri\":\"/\",\"-uri_scheme\":\"riap+tcp\",\"-uri_path\":\"/\",\"-x\":[1]}", msg, &r) == 0,
        "keys beginning with - are the client's: ignored");
  riap_req_free(&r);
  EXPECT_MSG("{\"action\":\"ca ll\",\"uri\":\"/\"}", 400, "Invalid action, please only use letters/numbers", "an action that is not an identifier");
  EXPECT_MSG("{\"action\":\"call\\u0000\",\"uri\":\"/\"}", 400, "Invalid action, please only use letters/numbers", "an action holding NUL");
  EXPECT_MSG("{\"action\":\"\",\"uri\":\"/\"}", 400, "Please specify action", "an empty action");
  {
    static const char latin1[] = "{\"action\":\"call\",\"uri\":\"/f\",\"args\":{\"s\":\"caf\xe9\"}}";
    CHECK(parse(latin1, msg, &r) == 0 && !strcmp(json_string_value(json_object_get(r.args, "s")), "caf\xc3\xa9"),
          "a line that is not UTF-8 is read as Latin-1");
    riap_req_free(&r);
    CHECK(parse("{\"action\":\"call\",\"uri\":\"/f\",\"args\":{\"s\":\"caf\xc3\xa9\"}}", msg, &r) == 0 &&
          !strcmp(json_string_value(json_object_get(r.args, "s")), "caf\xc3\xa9"), "valid UTF-8 stays UTF-8");
    riap_req_free(&r);
  }
  EXPECT_MSG("{\"action\":\"info\",\"uri\":\"/\",\"foo\":1}", 400, "Unknown request key 'foo'", "unknown key");
  EXPECT("{\"action\":\"info\",\"uri\":\"/\",\"a-b\":1}", 400, "key not an identifier");
  EXPECT_MSG("{\"action\":\"info\",\"uri\":5}", 400, "Invalid value for request key 'uri', must be a string", "uri type");
  EXPECT("{\"action\":\"list\",\"uri\":\"/\",\"detail\":\"yes\"}", 400, "detail type");
  EXPECT("{\"action\":\"call\",\"uri\":\"/f\",\"args\":[1]}", 400, "args must be an object");
  EXPECT_MSG("{\"action\":\"meta\",\"uri\":\"/f\",\"args\":{}}", 400, "Request key 'args' is not valid for action 'meta'",
             "args only for call");
  EXPECT_MSG("{\"action\":\"frobnicate\",\"uri\":\"/\"}", 501, "Unknown action 'frobnicate'", "unknown action");
  EXPECT_MSG("{\"action\":\"call\",\"uri\":\"/f\",\"tx_id\":\"1\"}", 501, "Transaction not supported by server", "tx_id");
  EXPECT("{\"action\":\"complete_arg_elem\",\"uri\":\"/f\",\"arg\":\"a\",\"index\":-1}", 400, "index must be non-negative");
  EXPECT("{\"action\":\"call\",\"uri\":\"/f\",\"n\":123456789012345678901234567890}", 400, "huge integers are refused");

  /* NUL: raw (never JSON), and \u0000 inside request keys' strings */
  EXPECTN_MSG("{\"action\":\"info\",\0\"uri\":\"/\"}", 28, 400, "Invalid JSON: NUL byte at byte 18", "a raw NUL between tokens");
  EXPECTN_MSG("{\"action\":\"info\",\"uri\":\"/\"}\0", 28, 400, "Invalid JSON: NUL byte at byte 28", "a raw NUL after the object");
  EXPECT_MSG("{\"action\":\"info\\u0000junk\",\"uri\":\"/\"}", 400, "Invalid action, please only use letters/numbers",
             "an action with \\u0000 inside");
  EXPECT_MSG("{\"action\":\"in fo\",\"uri\":\"/\"}", 400, "Invalid action, please only use letters/numbers",
             "an action that is not an identifier");
  EXPECT_MSG("{\"action\":\"call\",\"uri\":\"/M/f\\u0000x\"}", 400,
             "Invalid value for request key 'uri', must not contain NUL", "a uri with \\u0000 inside");
  EXPECT_MSG("{\"action\":\"list\",\"uri\":\"/\",\"q\":\"a\\u0000\"}", 400,
             "Invalid value for request key 'q', must not contain NUL", "a q with \\u0000 inside");
  EXPECT("{\"action\":\"call\",\"uri\":\"/f\",\"args\":{\"a\":\"x\\u0000y\"}}", 0, "an argument's value may hold \\u0000");
  return UNIT_DONE();
}
