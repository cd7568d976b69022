/*
 * Host driver for firmware_configs/emg-stream-v1/emg_stream.h, used by test_emg_stream.py.
 *
 * Reads one request per line on stdin and prints one answer line on stdout:
 *
 *   P channels n flags sequence timestamp s0 s1 ...   ->  hex of the packed packet, or ERR
 *   I channels rate uv spp state bits major minor patch name  ->  hex of the info payload
 *   C hex-bytes (or "-" for an empty write)          ->  "status opcode rate batch"
 *   R opcode status hex-data (or "-")                ->  hex of the response, or ERR
 *   M mtu channels limit                             ->  samples per packet
 *   S channels                                       ->  packet size for 1 .. 3 samples
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emg_stream.h"

#define LINE_MAX_CHARS 65536

static char line[LINE_MAX_CHARS];
static int16_t samples[EMG_STREAM_MAX_CHANNELS * EMG_STREAM_MAX_SAMPLES];
static uint8_t buffer[EMG_STREAM_HEADER_SIZE + 2 * EMG_STREAM_MAX_CHANNELS * EMG_STREAM_MAX_SAMPLES];

static void print_hex(const uint8_t *data, size_t len) {
    size_t i;
    for (i = 0; i < len; i++) printf("%02x", data[i]);
    printf("\n");
}

static size_t parse_hex(const char *text, uint8_t *out, size_t out_size) {
    size_t n = 0;
    unsigned value;
    if (strcmp(text, "-") == 0) return 0;
    while (text[0] != '\0' && text[1] != '\0' && n < out_size) {
        if (sscanf(text, "%2x", &value) != 1) break;
        out[n++] = (uint8_t)value;
        text += 2;
    }
    return n;
}

static void pack_packet(char *rest) {
    char *end;
    emg_stream_header h;
    size_t count, i, size;
    h.channels = (uint8_t)strtoul(rest, &end, 10);
    h.samples_per_channel = (uint8_t)strtoul(end, &end, 10);
    h.flags = (uint8_t)strtoul(end, &end, 10);
    h.sequence = (uint16_t)strtoul(end, &end, 10);
    h.timestamp_us = (uint32_t)strtoul(end, &end, 10);
    count = (size_t)h.channels * h.samples_per_channel;
    for (i = 0; i < count && i < sizeof samples / sizeof samples[0]; i++) {
        samples[i] = (int16_t)strtol(end, &end, 10);
    }
    size = emg_stream_pack_packet(buffer, sizeof buffer, &h, samples);
    if (size == 0) {
        printf("ERR\n");
        return;
    }
    print_hex(buffer, size);
}

static void pack_info(char *rest) {
    char *end;
    char name[64];
    emg_stream_info info;
    size_t size;
    info.channels = (uint8_t)strtoul(rest, &end, 10);
    info.sample_rate_hz = (uint16_t)strtoul(end, &end, 10);
    info.uv_per_count = (float)strtod(end, &end);
    info.samples_per_packet = (uint8_t)strtoul(end, &end, 10);
    info.state = (uint8_t)strtoul(end, &end, 10);
    info.adc_bits = (uint8_t)strtoul(end, &end, 10);
    info.fw_major = (uint8_t)strtoul(end, &end, 10);
    info.fw_minor = (uint8_t)strtoul(end, &end, 10);
    info.fw_patch = (uint8_t)strtoul(end, &end, 10);
    name[0] = '\0';
    if (sscanf(end, "%63s", name) != 1) name[0] = '\0';
    info.name = name;
    size = emg_stream_pack_info(buffer, sizeof buffer, &info);
    if (size == 0) {
        printf("ERR\n");
        return;
    }
    print_hex(buffer, size);
}

static void parse_command(char *rest) {
    char hex[512];
    uint8_t data[256];
    size_t len;
    uint8_t status;
    emg_stream_command cmd;
    if (sscanf(rest, "%511s", hex) != 1) strcpy(hex, "-");
    len = parse_hex(hex, data, sizeof data);
    status = emg_stream_parse_command(data, len, &cmd);
    printf("%u %u %u %u\n", (unsigned)status, (unsigned)cmd.opcode, (unsigned)cmd.sample_rate_hz,
           (unsigned)cmd.batch_limit);
}

static void pack_response(char *rest) {
    char *end;
    char hex[512];
    uint8_t data[256];
    size_t len, size;
    uint8_t opcode = (uint8_t)strtoul(rest, &end, 10);
    uint8_t status = (uint8_t)strtoul(end, &end, 10);
    if (sscanf(end, "%511s", hex) != 1) strcpy(hex, "-");
    len = parse_hex(hex, data, sizeof data);
    size = emg_stream_pack_response(buffer, sizeof buffer, opcode, status, len ? data : NULL, len);
    if (size == 0) {
        printf("ERR\n");
        return;
    }
    print_hex(buffer, size);
}

int main(void) {
    char *end;
    unsigned mtu, channels, limit;
    while (fgets(line, sizeof line, stdin) != NULL) {
        char *rest = line + 1;
        switch (line[0]) {
            case 'P':
                pack_packet(rest);
                break;
            case 'I':
                pack_info(rest);
                break;
            case 'C':
                parse_command(rest);
                break;
            case 'R':
                pack_response(rest);
                break;
            case 'M':
                mtu = (unsigned)strtoul(rest, &end, 10);
                channels = (unsigned)strtoul(end, &end, 10);
                limit = (unsigned)strtoul(end, &end, 10);
                printf("%u\n", emg_stream_samples_per_packet(mtu, channels, limit));
                break;
            case 'S':
                channels = (unsigned)strtoul(rest, &end, 10);
                printf("%u %u %u\n", (unsigned)emg_stream_packet_size(channels, 1),
                       (unsigned)emg_stream_packet_size(channels, 2),
                       (unsigned)emg_stream_packet_size(channels, 3));
                break;
            default:
                printf("?\n");
                break;
        }
        fflush(stdout);
    }
    return 0;
}
