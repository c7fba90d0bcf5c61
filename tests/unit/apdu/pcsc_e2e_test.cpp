// ES10 through PC/SC: pcscd with vsmartcard's vpcd driver, and
// `esimguard-euicc --vpcd` plugged into it. pcscd (1.9) only listens on the
// system socket, so this test does not start it: it runs when
// ESIMGUARD_PCSC_READER names the reader (a substring), and is skipped
// otherwise. Set-up: a reader.conf.d entry for libifdvpcd.so on PORT,
// `pcscd -f -c DIR`, `esimguard-euicc --state F --vpcd 127.0.0.1:PORT`.

#include "esimguard/apdu/es10_client.hpp"
#include "esimguard/apdu/transports.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace esimguard;
using namespace esimguard::apdu;

TEST(pcsc_e2e, get_eid_through_pcscd_and_vpcd) {
    const char* reader = std::getenv("ESIMGUARD_PCSC_READER");
    if (!reader) {
        GTEST_SKIP() << "set ESIMGUARD_PCSC_READER to a vpcd reader with esimguard-euicc in it";
    }
    auto link = create_pcsc_transport({.reader = reader});
    es10_client client(*link);
    auto opened = client.open();
    ASSERT_TRUE(opened) << opened.error().detail;
    auto response = client.call(bytes{0xBF, 0x3E, 0x03, 0x5C, 0x01, 0x5A});
    ASSERT_TRUE(response) << response.error().detail;
    ASSERT_EQ(response->size(), 21u);
    EXPECT_EQ(to_hex(byte_view(*response).first(5)), "bf3e125a10");

    // EUICCInfo2 is the longest answer of a card without profiles.
    auto info2 = client.call(bytes{0xBF, 0x22, 0x00});
    ASSERT_TRUE(info2) << info2.error().detail;
    EXPECT_EQ((*info2)[0], 0xBF);
    EXPECT_EQ((*info2)[1], 0x22);
}
