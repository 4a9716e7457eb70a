package dev.turnpike.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What a username says of whom it was minted for: EXPIRY:name[:tag], or a static user's name. */
class UsernamesTest {
    @Test
    void aTimeLimitedUsernameCountsAsItsNameAndMayCarryATag() {
        assertThat(Usernames.account("1700000000:alice")).isEqualTo("alice");
        assertThat(Usernames.tag("1700000000:alice")).isNull();
        assertThat(Usernames.account("1700000000:alice:customer-42")).isEqualTo("alice");
        assertThat(Usernames.tag("1700000000:alice:customer-42")).isEqualTo("customer-42");
        assertThat(Usernames.tag("1700000000:alice:a:b"))
                .as("the tag is the rest")
                .isEqualTo("a:b");
    }

    @Test
    void anythingElseIsAStaticUsersNameWhole() {
        assertThat(Usernames.account("alice")).isEqualTo("alice");
        assertThat(Usernames.account("bob:builder")).as("no expiry in front").isEqualTo("bob:builder");
        assertThat(Usernames.account(":alice")).isEqualTo(":alice");
        assertThat(Usernames.tag("bob:builder:x")).isNull();
    }

    @Test
    void theEdgesAnswerWithoutAnException() {
        assertThat(Usernames.account("")).isEmpty();
        assertThat(Usernames.tag("")).isNull();
        assertThat(Usernames.account("123:")).isEmpty();
        assertThat(Usernames.account("123::")).isEmpty();
        assertThat(Usernames.tag("123:name:")).as("an empty tag is none").isNull();
        assertThat(Usernames.account("x".repeat(513))).hasSize(513);
    }
}
