/*
 * The C floor: the least a relay can do per packet on this machine, for docs/benchmarks.md to compare against.
 *
 * Not a TURN server. It speaks just enough TURN over UDP for the load generator (Allocate, ChannelBind,
 * Refresh, ChannelData both ways, IPv4 only) and checks nothing: no authentication, no permissions, no peer
 * policy, no expiry. What remains is the data path every relay must pay for, written the plain way: one
 * epoll_wait, then one recvfrom and one sendto per packet (no batching), a hash lookup by client address, and
 * the 4-byte ChannelData header written in front of a peer's payload in place.
 *
 *   gcc -O2 -o benchmarks/target/c-floor benchmarks/c-floor/floor.c
 *   benchmarks/target/c-floor 127.0.0.1 3478 127.0.0.1
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAGIC 0x2112A442u
#define MAX_ALLOCATIONS 32768 /* a power of two: the client table's size */
#define MAX_CHANNELS 8
#define RECEIVE_BUFFER (4 << 20) /* as Turnpike's default --receive-buffer */

struct allocation {
    int fd;
    uint64_t client_key;
    struct sockaddr_in client;
    int channels;
    uint16_t number[MAX_CHANNELS];
    struct sockaddr_in peer[MAX_CHANNELS];
};

static struct allocation *by_client[MAX_ALLOCATIONS];
static int listener;
static int epoll_fd;
static struct in_addr relay_ip;
static volatile sig_atomic_t running = 1;
/* room in front of a peer's payload for the ChannelData header */
static uint8_t buffer[4 + 65536];
static uint8_t response[512];

static void stop(int signal_number) {
    (void) signal_number;
    running = 0;
}

static uint64_t key_of(const struct sockaddr_in *a) {
    return ((uint64_t) a->sin_addr.s_addr << 16) | a->sin_port;
}

static size_t slot_of(uint64_t key) {
    return (size_t) ((key * 0x9E3779B97F4A7C15ull) >> 49) & (MAX_ALLOCATIONS - 1);
}

static struct allocation *find(const struct sockaddr_in *client) {
    uint64_t key = key_of(client);
    for (size_t i = slot_of(key), n = 0; n < MAX_ALLOCATIONS; i = (i + 1) & (MAX_ALLOCATIONS - 1), n++) {
        if (by_client[i] == NULL) {
            return NULL;
        }
        if (by_client[i]->client_key == key) {
            return by_client[i];
        }
    }
    return NULL;
}

static int insert(struct allocation *a) {
    for (size_t i = slot_of(a->client_key), n = 0; n < MAX_ALLOCATIONS; i = (i + 1) & (MAX_ALLOCATIONS - 1), n++) {
        if (by_client[i] == NULL) {
            by_client[i] = a;
            return 0;
        }
    }
    return -1;
}

static size_t put_attribute(size_t at, uint16_t type, const void *value, uint16_t length) {
    uint16_t t = htons(type), l = htons(length);
    memcpy(response + at, &t, 2);
    memcpy(response + at + 2, &l, 2);
    memcpy(response + at + 4, value, length);
    return at + 4 + ((length + 3u) & ~3u);
}

static size_t put_xor_address(size_t at, uint16_t type, const struct sockaddr_in *a) {
    uint8_t value[8] = {0, 1};
    uint16_t port = htons((uint16_t) (ntohs(a->sin_port) ^ (MAGIC >> 16)));
    uint32_t ip = htonl(ntohl(a->sin_addr.s_addr) ^ MAGIC);
    memcpy(value + 2, &port, 2);
    memcpy(value + 4, &ip, 4);
    return put_attribute(at, type, value, 8);
}

/* A success response to the request in buffer: the same transaction, the attributes already put after 20. */
static void respond(uint16_t type, size_t end, const struct sockaddr_in *client) {
    uint16_t t = htons(type), l = htons((uint16_t) (end - 20));
    memcpy(response, &t, 2);
    memcpy(response + 2, &l, 2);
    memcpy(response + 4, buffer + 8, 16); /* the request's magic cookie and transaction id */
    sendto(listener, response, end, 0, (const struct sockaddr *) client, sizeof *client);
}

/* The first attribute of this type in the request, or NULL; its length in *length. */
static const uint8_t *attribute(size_t message_length, uint16_t type, uint16_t *length) {
    size_t at = 20;
    while (at + 4 <= message_length) {
        uint16_t t = (uint16_t) (buffer[4 + at] << 8 | buffer[4 + at + 1]);
        uint16_t l = (uint16_t) (buffer[4 + at + 2] << 8 | buffer[4 + at + 3]);
        if (at + 4 + l > message_length) {
            return NULL;
        }
        if (t == type) {
            *length = l;
            return buffer + 4 + at + 4;
        }
        at += 4 + ((l + 3u) & ~3u);
    }
    return NULL;
}

static void allocate(const struct sockaddr_in *client) {
    struct allocation *a = find(client);
    if (a == NULL) {
        a = calloc(1, sizeof *a);
        a->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in local = {.sin_family = AF_INET, .sin_addr = relay_ip};
        int size = RECEIVE_BUFFER;
        setsockopt(a->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        if (a->fd < 0 || bind(a->fd, (struct sockaddr *) &local, sizeof local) < 0) {
            perror("c-floor: relay socket");
            exit(1);
        }
        a->client = *client;
        a->client_key = key_of(client);
        if (insert(a) < 0) {
            fprintf(stderr, "c-floor: more than %d allocations\n", MAX_ALLOCATIONS);
            exit(1);
        }
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = a};
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, a->fd, &event);
    }
    struct sockaddr_in relayed;
    socklen_t relayed_length = sizeof relayed;
    getsockname(a->fd, (struct sockaddr *) &relayed, &relayed_length);
    uint32_t lifetime = htonl(600);
    size_t end = put_xor_address(20, 0x0016, &relayed); /* XOR-RELAYED-ADDRESS */
    end = put_attribute(end, 0x000D, &lifetime, 4);    /* LIFETIME */
    end = put_xor_address(end, 0x0020, client);        /* XOR-MAPPED-ADDRESS */
    respond(0x0103, end, client);
}

static void channel_bind(const struct sockaddr_in *client, size_t message_length) {
    struct allocation *a = find(client);
    uint16_t number_length, peer_length;
    const uint8_t *number = attribute(message_length, 0x000C, &number_length);
    const uint8_t *peer = attribute(message_length, 0x0012, &peer_length);
    if (a == NULL || number == NULL || peer == NULL || peer_length != 8 || a->channels == MAX_CHANNELS) {
        return; /* the load generator times out: a floor needs no error responses */
    }
    struct sockaddr_in *p = &a->peer[a->channels];
    p->sin_family = AF_INET;
    p->sin_port = htons((uint16_t) ((peer[2] << 8 | peer[3]) ^ (MAGIC >> 16)));
    uint32_t ip;
    memcpy(&ip, peer + 4, 4);
    p->sin_addr.s_addr = htonl(ntohl(ip) ^ MAGIC);
    a->number[a->channels++] = (uint16_t) (number[0] << 8 | number[1]);
    respond(0x0109, 20, client);
}

static void from_client(const struct sockaddr_in *client, size_t length) {
    uint8_t *m = buffer + 4;
    if (length >= 4 && (m[0] & 0xC0) == 0x40) { /* ChannelData */
        uint16_t number = (uint16_t) (m[0] << 8 | m[1]);
        size_t data_length = (size_t) (m[2] << 8 | m[3]);
        struct allocation *a = find(client);
        if (a == NULL || data_length + 4 > length) {
            return;
        }
        for (int i = 0; i < a->channels; i++) {
            if (a->number[i] == number) {
                sendto(a->fd, m + 4, data_length, 0, (struct sockaddr *) &a->peer[i], sizeof a->peer[i]);
                return;
            }
        }
        return;
    }
    uint32_t cookie;
    if (length < 20) {
        return;
    }
    memcpy(&cookie, m + 4, 4);
    size_t message_length = 20 + (size_t) (m[2] << 8 | m[3]);
    if (ntohl(cookie) != MAGIC || message_length > length) {
        return;
    }
    switch (m[0] << 8 | m[1]) {
        case 0x0003: allocate(client); break;
        case 0x0009: channel_bind(client, message_length); break;
        case 0x0004: { /* Refresh: the allocation lives until the process ends */
            uint32_t lifetime = htonl(600);
            respond(0x0104, put_attribute(20, 0x000D, &lifetime, 4), client);
            break;
        }
        default: break;
    }
}

static void from_peer(struct allocation *a) {
    for (;;) {
        struct sockaddr_in peer;
        socklen_t peer_length = sizeof peer;
        ssize_t n = recvfrom(a->fd, buffer + 4, sizeof buffer - 4, 0, (struct sockaddr *) &peer, &peer_length);
        if (n < 0) {
            return; /* EAGAIN: drained */
        }
        for (int i = 0; i < a->channels; i++) {
            if (a->peer[i].sin_port == peer.sin_port && a->peer[i].sin_addr.s_addr == peer.sin_addr.s_addr) {
                buffer[0] = (uint8_t) (a->number[i] >> 8);
                buffer[1] = (uint8_t) a->number[i];
                buffer[2] = (uint8_t) (n >> 8);
                buffer[3] = (uint8_t) n;
                sendto(listener, buffer, (size_t) n + 4, 0, (struct sockaddr *) &a->client, sizeof a->client);
                break;
            }
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: c-floor LISTEN_IP PORT RELAY_IP\n");
        return 2;
    }
    struct sockaddr_in listen_address = {.sin_family = AF_INET, .sin_port = htons((uint16_t) atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &listen_address.sin_addr) != 1 || inet_pton(AF_INET, argv[3], &relay_ip) != 1) {
        fprintf(stderr, "c-floor: IPv4 addresses only\n");
        return 2;
    }
    signal(SIGTERM, stop);
    signal(SIGINT, stop);
    listener = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int size = RECEIVE_BUFFER;
    setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (bind(listener, (struct sockaddr *) &listen_address, sizeof listen_address) < 0) {
        perror("c-floor: listen");
        return 1;
    }
    epoll_fd = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &event);
    fprintf(stderr, "c-floor listening on %s:%s\n", argv[1], argv[2]);

    struct epoll_event ready[64];
    while (running) {
        int count = epoll_wait(epoll_fd, ready, 64, 1000);
        for (int i = 0; i < count; i++) {
            if (ready[i].data.ptr != NULL) {
                from_peer(ready[i].data.ptr);
                continue;
            }
            for (;;) {
                struct sockaddr_in client;
                socklen_t client_length = sizeof client;
                ssize_t n = recvfrom(listener, buffer + 4, sizeof buffer - 4, 0, (struct sockaddr *) &client, &client_length);
                if (n < 0) {
                    break; /* EAGAIN: drained */
                }
                from_client(&client, (size_t) n);
            }
        }
        if (count < 0 && errno != EINTR) {
            perror("c-floor: epoll_wait");
            return 1;
        }
    }
    return 0;
}
