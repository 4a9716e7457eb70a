/*
 * What batching sends could save on this machine: the cost of a null syscall (getppid), and of sending a
 * 164-byte UDP datagram on loopback (the load generator's ChannelData) with one sendto per datagram against one
 * sendmmsg per 32, each receiver drained with recvmmsg between rounds (untimed). The difference per datagram is
 * all that sendmmsg on the listening socket could take off a relay's cost per packet (docs/benchmarks.md,
 * issue 12). One thread, one CPU, loopback only; a bounded number of rounds.
 *
 *   gcc -O2 -o benchmarks/target/send-cost benchmarks/c-floor/send-cost.c && taskset -c 1 benchmarks/target/send-cost
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define ROUNDS 20000
#define PAYLOAD 164

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static void drain(int fd) {
    static char buffers[BATCH][2048];
    struct mmsghdr messages[BATCH];
    struct iovec iov[BATCH];
    for (;;) {
        memset(messages, 0, sizeof messages);
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = buffers[i];
            iov[i].iov_len = sizeof buffers[i];
            messages[i].msg_hdr.msg_iov = &iov[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        if (recvmmsg(fd, messages, BATCH, MSG_DONTWAIT, NULL) <= 0) {
            return;
        }
    }
}

int main(void) {
    int receiver = socket(AF_INET, SOCK_DGRAM, 0);
    int sender = socket(AF_INET, SOCK_DGRAM, 0);
    int size = 4 << 20;
    setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(sender, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof to;
    if (bind(receiver, (struct sockaddr *) &to, sizeof to) < 0 || getsockname(receiver, (struct sockaddr *) &to, &length) < 0) {
        perror("send-cost: bind");
        return 1;
    }
    char payload[PAYLOAD] = {0x40, 0x01, 0, PAYLOAD - 4};

    double start = now_ns();
    for (int i = 0; i < ROUNDS * BATCH; i++) {
        getppid();
    }
    double null_ns = (now_ns() - start) / (ROUNDS * BATCH);

    double one_ns = 0, batched_ns = 0;
    struct mmsghdr messages[BATCH];
    struct iovec iov = {.iov_base = payload, .iov_len = PAYLOAD};
    memset(messages, 0, sizeof messages);
    for (int i = 0; i < BATCH; i++) {
        messages[i].msg_hdr.msg_name = &to;
        messages[i].msg_hdr.msg_namelen = sizeof to;
        messages[i].msg_hdr.msg_iov = &iov;
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    for (int round = 0; round < ROUNDS; round++) {
        // alternate the two ways round by round, so that both see the same machine
        start = now_ns();
        for (int i = 0; i < BATCH; i++) {
            sendto(sender, payload, PAYLOAD, 0, (struct sockaddr *) &to, sizeof to);
        }
        one_ns += now_ns() - start;
        drain(receiver);
        start = now_ns();
        for (int sent = 0; sent < BATCH;) {
            int n = sendmmsg(sender, messages + sent, BATCH - sent, 0);
            if (n <= 0) {
                perror("send-cost: sendmmsg");
                return 1;
            }
            sent += n;
        }
        batched_ns += now_ns() - start;
        drain(receiver);
    }
    one_ns /= (double) ROUNDS * BATCH;
    batched_ns /= (double) ROUNDS * BATCH;
    printf("null syscall (getppid): %.0f ns\n", null_ns);
    printf("sendto, one datagram a call: %.0f ns a datagram\n", one_ns);
    printf("sendmmsg, %d datagrams a call: %.0f ns a datagram\n", BATCH, batched_ns);
    printf("saved by batching: %.0f ns a datagram (%.1f%%)\n", one_ns - batched_ns, 100 * (one_ns - batched_ns) / one_ns);
    return 0;
}
