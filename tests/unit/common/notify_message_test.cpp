// The sd_notify datagram parser: every key, the malformed forms, duplicates, the round trip.
#include "common/notify_message.h"

#include <gtest/gtest.h>

#include <string>

using namespace gardien;
using namespace std::string_literals;

namespace {

NotifyMessage parsed(std::string_view datagram) {
  std::string error;
  auto message = parse_notify_message(datagram, error);
  EXPECT_TRUE(message) << "\"" << datagram << "\": " << error;
  EXPECT_TRUE(!message || error.empty()) << error;
  return message.value_or(NotifyMessage{});
}

// The error for a datagram that must be refused ("" when it was accepted).
std::string refused(std::string_view datagram) {
  std::string error;
  auto message = parse_notify_message(datagram, error);
  if (message) return "";
  EXPECT_FALSE(error.empty()) << "a refusal says why";
  return error;
}

}  // namespace

TEST(NotifyMessage, ReadsEveryFlagKey) {
  EXPECT_TRUE(parsed("READY=1").ready);
  EXPECT_TRUE(parsed("RELOADING=1").reloading);
  EXPECT_TRUE(parsed("STOPPING=1").stopping);
  EXPECT_TRUE(parsed("BARRIER=1").barrier);
  EXPECT_TRUE(parsed("WATCHDOG=1").watchdog);
  EXPECT_FALSE(parsed("WATCHDOG=1").watchdog_trigger);
  EXPECT_TRUE(parsed("WATCHDOG=trigger").watchdog_trigger);
  EXPECT_FALSE(parsed("WATCHDOG=trigger").watchdog);
  EXPECT_EQ(parsed(""), NotifyMessage{});
}

TEST(NotifyMessage, ReadsEveryValueKey) {
  EXPECT_EQ(parsed("STATUS=loading the cache: 40%").status, "loading the cache: 40%");
  EXPECT_EQ(parsed("STATUS=").status, "");
  EXPECT_EQ(parsed("STATUS=a=b\tc").status, "a=b\tc");
  EXPECT_EQ(parsed("STATUS=prêt ✓").status, "prêt ✓");
  EXPECT_EQ(parsed("MAINPID=4242").main_pid, 4242);
  EXPECT_EQ(parsed("MAINPID=2147483647").main_pid, 2147483647);
  EXPECT_EQ(parsed("ERRNO=0").errno_value, 0);
  EXPECT_EQ(parsed("ERRNO=13").errno_value, 13);
  EXPECT_EQ(parsed("EXTEND_TIMEOUT_USEC=5000000").extend_timeout, Duration(5000));
  EXPECT_EQ(parsed("EXTEND_TIMEOUT_USEC=0").extend_timeout, Duration(0));
}

TEST(NotifyMessage, ExtendTimeoutRoundsUpToAMillisecondAndClampsHugeValues) {
  EXPECT_EQ(parsed("EXTEND_TIMEOUT_USEC=1").extend_timeout, Duration(1));
  EXPECT_EQ(parsed("EXTEND_TIMEOUT_USEC=1000").extend_timeout, Duration(1));
  EXPECT_EQ(parsed("EXTEND_TIMEOUT_USEC=1001").extend_timeout, Duration(2));
  EXPECT_EQ(parsed("EXTEND_TIMEOUT_USEC=18446744073709551615").extend_timeout, kMaxDuration);
  EXPECT_EQ(parsed("EXTEND_TIMEOUT_USEC=" + std::string(500, '9')).extend_timeout, kMaxDuration);
}

TEST(NotifyMessage, ReadsSeveralKeysWithNewlinesAndEmptyLines) {
  NotifyMessage message = parsed("\nMAINPID=77\n\nREADY=1\nSTATUS=up\n\n");
  EXPECT_TRUE(message.ready);
  EXPECT_EQ(message.main_pid, 77);
  EXPECT_EQ(message.status, "up");
  EXPECT_FALSE(message.stopping);
}

TEST(NotifyMessage, IgnoresUnknownKeys) {
  EXPECT_EQ(parsed("X_MY_APP=anything\nFDSTORE=1\nFDNAME=x\nNOTIFYACCESS=all"), NotifyMessage{});
  EXPECT_TRUE(parsed("FUTURE_KEY=\nREADY=1").ready);
}

TEST(NotifyMessage, TheLastOfADuplicateKeyWins) {
  EXPECT_EQ(parsed("STATUS=one\nSTATUS=two").status, "two");
  EXPECT_EQ(parsed("MAINPID=1\nMAINPID=2").main_pid, 2);
  EXPECT_EQ(parsed("EXTEND_TIMEOUT_USEC=1000\nEXTEND_TIMEOUT_USEC=3000").extend_timeout,
            Duration(3));
  NotifyMessage watchdog = parsed("WATCHDOG=trigger\nWATCHDOG=1");
  EXPECT_TRUE(watchdog.watchdog);
  EXPECT_FALSE(watchdog.watchdog_trigger);
  EXPECT_TRUE(parsed("READY=1\nREADY=1").ready);
}

TEST(NotifyMessage, CapsStatusAtACharacterBoundary) {
  EXPECT_EQ(parsed("STATUS=" + std::string(5000, 'x')).status->size(), 1024u);
  // "é" is two bytes: the cut falls inside the last one, which is left out whole.
  std::string text = std::string(1023, 'a') + "é";
  EXPECT_EQ(parsed("STATUS=" + text).status, std::string(1023, 'a'));
}

TEST(NotifyMessage, RefusesFlagsWithAnyValueButOne) {
  for (const char* key : {"READY", "RELOADING", "STOPPING", "BARRIER"}) {
    for (const char* value : {"0", "", "true", "yes", "01", " 1", "1 "}) {
      std::string line = std::string(key) + "=" + value;
      EXPECT_NE(refused(line), "") << line;
    }
  }
  EXPECT_NE(refused("WATCHDOG=0"), "");
  EXPECT_NE(refused("WATCHDOG=Trigger"), "");
  EXPECT_NE(refused("READY=2\nSTATUS=x"), "") << "one bad line refuses the datagram";
}

TEST(NotifyMessage, RefusesBadNumbersAndNamesTheKey) {
  for (const char* line :
       {"MAINPID=", "MAINPID=0", "MAINPID=-1", "MAINPID=+5", "MAINPID=abc", "MAINPID=12x",
        "MAINPID= 12", "MAINPID=2147483648", "MAINPID=99999999999999999999999", "MAINPID=0x10"}) {
    std::string error = refused(line);
    EXPECT_NE(error.find("MAINPID"), std::string::npos) << line << ": " << error;
    EXPECT_NE(error.find("not a pid"), std::string::npos) << error;
  }
  for (const char* line : {"ERRNO=", "ERRNO=-1", "ERRNO=2147483648", "ERRNO=e"}) {
    EXPECT_NE(refused(line).find("ERRNO"), std::string::npos) << line;
  }
  for (const char* line : {"EXTEND_TIMEOUT_USEC=", "EXTEND_TIMEOUT_USEC=-5",
                           "EXTEND_TIMEOUT_USEC=1.5", "EXTEND_TIMEOUT_USEC=5s"}) {
    EXPECT_NE(refused(line).find("EXTEND_TIMEOUT_USEC"), std::string::npos) << line;
  }
}

TEST(NotifyMessage, RefusesLinesThatAreNotKeyValue) {
  EXPECT_NE(refused("READY").find("not KEY=VALUE"), std::string::npos);
  EXPECT_NE(refused("READY=1\ngarbage").find("garbage"), std::string::npos);
  EXPECT_NE(refused("=1").find("empty key"), std::string::npos);
  // A long bad line is quoted short.
  EXPECT_LT(refused(std::string(4000, 'k')).size(), 100u);
}

TEST(NotifyMessage, RefusesNulControlBytesAndBrokenUtf8) {
  EXPECT_NE(refused("READY=1\0"s).find("NUL"), std::string::npos);
  EXPECT_NE(refused("STATUS=a\0b"s).find("NUL"), std::string::npos);
  EXPECT_NE(refused("READY=1\r\n").find("control byte 13"), std::string::npos);
  EXPECT_NE(refused("STATUS=\x1b[31mred"), "");
  EXPECT_NE(refused("STATUS=\x7f"), "");
  EXPECT_NE(refused("STATUS=\xff").find("UTF-8"), std::string::npos);
  EXPECT_NE(refused("STATUS=\xc3"), "") << "a sequence cut short";
  EXPECT_NE(refused("STATUS=\xc0\xaf"), "") << "an overlong form";
  EXPECT_NE(refused("STATUS=\xed\xa0\x80"), "") << "a surrogate";
  EXPECT_NE(refused("STATUS=\xf4\x90\x80\x80"), "") << "past U+10FFFF";
  EXPECT_EQ(parsed("STATUS=\xf0\x9f\x9a\x80").status, "\xf0\x9f\x9a\x80");
}

TEST(NotifyMessage, FormatReadsBackTheSameMessage) {
  NotifyMessage message;
  message.ready = true;
  message.reloading = true;
  message.stopping = true;
  message.watchdog = true;
  message.barrier = true;
  message.status = "12 running, 1 starting";
  message.main_pid = 31337;
  message.errno_value = 2;
  message.extend_timeout = Duration(1500);
  std::string datagram = format_notify_message(message);
  EXPECT_EQ(datagram.back(), '\n');
  EXPECT_EQ(parsed(datagram), message);

  NotifyMessage trigger;
  trigger.watchdog_trigger = true;
  EXPECT_EQ(format_notify_message(trigger), "WATCHDOG=trigger\n");
  EXPECT_EQ(parsed(format_notify_message(trigger)), trigger);
  EXPECT_EQ(format_notify_message(NotifyMessage{}), "");
}

TEST(NotifyMessage, FormatKeepsAStatusOnOneLine) {
  NotifyMessage message;
  message.status = "two\nlines";
  EXPECT_EQ(format_notify_message(message), "STATUS=two lines\n");
}

TEST(NotifyMessage, WhatParsesFormatsAndParsesToTheSame) {
  for (std::string datagram :
       {"READY=1\nSTATUS=ok\n"s, "WATCHDOG=trigger"s, "EXTEND_TIMEOUT_USEC=1"s,
        "EXTEND_TIMEOUT_USEC=99999999999999999999999"s, "STATUS=" + std::string(3000, 'y'),
        "MAINPID=9\nX_Y=z\nERRNO=0\nBARRIER=1"s}) {
    NotifyMessage first = parsed(datagram);
    EXPECT_EQ(parsed(format_notify_message(first)), first) << datagram;
  }
}
