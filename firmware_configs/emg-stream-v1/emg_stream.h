/*
 * emg_stream.h - emg-stream v1 packet, info and command helpers (see SPEC.md beside this file).
 *
 * Dependency-free C99 (also valid C++), static inline functions only: include it from the
 * Arduino sketch and from host programs alike. Every multi-byte field is written and read
 * byte by byte, little-endian, so the result does not depend on the compiler's struct layout
 * or the CPU's byte order. The only assumption is that float is IEEE-754 binary32 (true on the
 * ESP32, nRF52 and every desktop CPU); it is checked at compile time for the size.
 *
 * Part of the emg toolkit; MIT licence.
 */
#ifndef EMG_STREAM_H
#define EMG_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- protocol constants ------------------------------------------------------------------ */

#define EMG_STREAM_VERSION 1u
#define EMG_STREAM_HEADER_SIZE 10u   /* bytes before the samples */
#define EMG_STREAM_ATT_OVERHEAD 3u   /* a notification carries at most MTU - 3 bytes */
#define EMG_STREAM_MAX_CHANNELS 8u
#define EMG_STREAM_MAX_SAMPLES 255u  /* samples per channel per packet (u8 field) */

/* header flags (byte 3) */
#define EMG_STREAM_FLAG_STREAM_START 0x01u  /* first packet after START, sequence 0 */
#define EMG_STREAM_FLAG_DISCONTINUITY 0x02u /* device dropped samples the sequence does not count */
#define EMG_STREAM_FLAG_CLIPPED 0x04u       /* a sample of this packet is at an ADC end of range */

/* GATT: made-up 128-bit base e3a1XXXX-7c2b-4f5e-9d8a-3b6c0e5f1a27 */
#define EMG_STREAM_UUID_SERVICE "e3a10001-7c2b-4f5e-9d8a-3b6c0e5f1a27"
#define EMG_STREAM_UUID_DATA "e3a10002-7c2b-4f5e-9d8a-3b6c0e5f1a27"    /* notify */
#define EMG_STREAM_UUID_CONTROL "e3a10003-7c2b-4f5e-9d8a-3b6c0e5f1a27" /* write, notify */
#define EMG_STREAM_UUID_INFO "e3a10004-7c2b-4f5e-9d8a-3b6c0e5f1a27"    /* read */

/* commands (control characteristic, first byte) */
#define EMG_STREAM_OP_START 0x01u
#define EMG_STREAM_OP_STOP 0x02u
#define EMG_STREAM_OP_GET_INFO 0x03u
#define EMG_STREAM_OP_IDENTIFY 0x04u
#define EMG_STREAM_OP_SET_SAMPLE_RATE 0x05u /* + u16 Hz */
#define EMG_STREAM_OP_SET_BATCH_LIMIT 0x06u /* + u8 samples per packet, 0 = as many as fit */

/* responses (notified on the control characteristic): F0, op code, status, data */
#define EMG_STREAM_RESPONSE_CODE 0xF0u
#define EMG_STREAM_STATUS_OK 0x00u
#define EMG_STREAM_STATUS_UNKNOWN_OPCODE 0x01u
#define EMG_STREAM_STATUS_INVALID_LENGTH 0x02u
#define EMG_STREAM_STATUS_INVALID_PARAMETER 0x03u
#define EMG_STREAM_STATUS_INVALID_STATE 0x04u

/* sample rates a device may accept: 100 .. 2000 Hz with a whole number of microseconds */
#define EMG_STREAM_MIN_RATE_HZ 100u
#define EMG_STREAM_MAX_RATE_HZ 2000u

/* info payload: 14 fixed bytes, the name length, the name (ASCII, not NUL-terminated) */
#define EMG_STREAM_INFO_FIXED_SIZE 14u
#define EMG_STREAM_INFO_MAX_NAME 32u
#define EMG_STREAM_INFO_MAX_SIZE (EMG_STREAM_INFO_FIXED_SIZE + 1u + EMG_STREAM_INFO_MAX_NAME)
#define EMG_STREAM_INFO_STATE_STREAMING 0x01u

/* a response fits the smallest MTU: 3 bytes + the 14-byte fixed info at most */
#define EMG_STREAM_RESPONSE_MAX_SIZE (3u + EMG_STREAM_INFO_FIXED_SIZE)

/* float must be 32 bits (the info payload's uV per count) */
typedef char emg_stream_float_is_32_bits[(sizeof(float) == 4u) ? 1 : -1];

/* ---- types ------------------------------------------------------------------------------- */

/** The header fields of one data packet. */
typedef struct {
    uint8_t channels;            /* 1 .. EMG_STREAM_MAX_CHANNELS */
    uint8_t samples_per_channel; /* 1 .. 255 */
    uint8_t flags;               /* EMG_STREAM_FLAG_* */
    uint16_t sequence;           /* 0 at the first packet of a stream, +1 per packet, wraps */
    uint32_t timestamp_us;       /* device time of the first sample, microseconds, wraps */
} emg_stream_header;

/** The info characteristic's fields. */
typedef struct {
    uint8_t channels;
    uint16_t sample_rate_hz;
    float uv_per_count;         /* microvolts at the electrodes per ADC count */
    uint8_t samples_per_packet; /* at the current MTU and batch limit */
    uint8_t state;              /* EMG_STREAM_INFO_STATE_* */
    uint8_t adc_bits;
    uint8_t fw_major, fw_minor, fw_patch;
    const char *name; /* ASCII, up to EMG_STREAM_INFO_MAX_NAME bytes are sent; may be NULL */
} emg_stream_info;

/** A parsed command. */
typedef struct {
    uint8_t opcode;
    uint16_t sample_rate_hz; /* SET_SAMPLE_RATE */
    uint8_t batch_limit;     /* SET_BATCH_LIMIT */
} emg_stream_command;

/* ---- little-endian byte access ----------------------------------------------------------- */

static inline void emg_stream_put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
}

static inline void emg_stream_put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
    p[3] = (uint8_t)((v >> 24) & 0xFFu);
}

/* two's complement bytes of an int16 (the conversion to uint16_t is modular, hence exact) */
static inline void emg_stream_put_i16(uint8_t *p, int16_t v) {
    emg_stream_put_u16(p, (uint16_t)v);
}

static inline uint16_t emg_stream_get_u16(const uint8_t *p) {
    return (uint16_t)((uint16_t)p[0] | (uint16_t)((uint16_t)p[1] << 8));
}

static inline uint32_t emg_stream_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

/* ---- data packets ------------------------------------------------------------------------ */

/** Bytes of a packet with these counts (header + 2 bytes per sample per channel). */
static inline size_t emg_stream_packet_size(unsigned channels, unsigned samples_per_channel) {
    return (size_t)EMG_STREAM_HEADER_SIZE + (size_t)2u * channels * samples_per_channel;
}

/**
 * Samples per channel that fit one notification: (mtu - 3 - 10) / (2 * channels), at most
 * 255 and at most `limit` when limit > 0. 0 when not even one fits (or channels is 0).
 */
static inline unsigned emg_stream_samples_per_packet(unsigned mtu, unsigned channels,
                                                     unsigned limit) {
    unsigned room, n;
    if (channels == 0u || mtu < EMG_STREAM_ATT_OVERHEAD + EMG_STREAM_HEADER_SIZE) return 0u;
    room = mtu - EMG_STREAM_ATT_OVERHEAD - EMG_STREAM_HEADER_SIZE;
    n = room / (2u * channels);
    if (n > EMG_STREAM_MAX_SAMPLES) n = EMG_STREAM_MAX_SAMPLES;
    if (limit > 0u && n > limit) n = limit;
    return n;
}

/**
 * Pack one data packet into `out`.
 *
 * `samples` holds samples_per_channel * channels int16 counts, sample-major (s0c0, s0c1, ...,
 * s1c0, ...). The version byte is always EMG_STREAM_VERSION.
 * Returns the bytes written, or 0 if the header is invalid (0 or too many channels, 0 samples)
 * or `out_size` is too small.
 */
static inline size_t emg_stream_pack_packet(uint8_t *out, size_t out_size,
                                            const emg_stream_header *header,
                                            const int16_t *samples) {
    size_t size, i, count;
    if (out == NULL || header == NULL || samples == NULL) return 0u;
    if (header->channels == 0u || header->channels > EMG_STREAM_MAX_CHANNELS) return 0u;
    if (header->samples_per_channel == 0u) return 0u;
    size = emg_stream_packet_size(header->channels, header->samples_per_channel);
    if (out_size < size) return 0u;
    out[0] = (uint8_t)EMG_STREAM_VERSION;
    out[1] = header->channels;
    out[2] = header->samples_per_channel;
    out[3] = header->flags;
    emg_stream_put_u16(out + 4, header->sequence);
    emg_stream_put_u32(out + 6, header->timestamp_us);
    count = (size_t)header->channels * header->samples_per_channel;
    for (i = 0u; i < count; i++) {
        emg_stream_put_i16(out + EMG_STREAM_HEADER_SIZE + 2u * i, samples[i]);
    }
    return size;
}

/* ---- info -------------------------------------------------------------------------------- */

/**
 * Pack the info payload (the info characteristic's value). The name is cut to
 * EMG_STREAM_INFO_MAX_NAME bytes. Returns the bytes written, or 0 if `out_size` is too small.
 * The first EMG_STREAM_INFO_FIXED_SIZE bytes are also the data of the GET_INFO response.
 */
static inline size_t emg_stream_pack_info(uint8_t *out, size_t out_size,
                                          const emg_stream_info *info) {
    size_t name_len = 0u;
    uint32_t bits = 0u;
    float uv;
    if (out == NULL || info == NULL) return 0u;
    if (info->name != NULL) {
        while (name_len < EMG_STREAM_INFO_MAX_NAME && info->name[name_len] != '\0') name_len++;
    }
    if (out_size < EMG_STREAM_INFO_FIXED_SIZE + 1u + name_len) return 0u;
    uv = info->uv_per_count;
    memcpy(&bits, &uv, sizeof bits);
    out[0] = (uint8_t)EMG_STREAM_VERSION;
    out[1] = info->channels;
    emg_stream_put_u16(out + 2, info->sample_rate_hz);
    emg_stream_put_u32(out + 4, bits);
    out[8] = info->samples_per_packet;
    out[9] = info->state;
    out[10] = info->adc_bits;
    out[11] = info->fw_major;
    out[12] = info->fw_minor;
    out[13] = info->fw_patch;
    out[14] = (uint8_t)name_len;
    if (name_len > 0u) memcpy(out + 15, info->name, name_len);
    return EMG_STREAM_INFO_FIXED_SIZE + 1u + name_len;
}

/* ---- commands and responses -------------------------------------------------------------- */

/** Whether a device may be asked for this sample rate (100 .. 2000 Hz, whole microseconds). */
static inline int emg_stream_sample_rate_valid(uint32_t hz) {
    return hz >= EMG_STREAM_MIN_RATE_HZ && hz <= EMG_STREAM_MAX_RATE_HZ && 1000000u % hz == 0u;
}

/**
 * Parse a command written to the control characteristic. Fills `cmd` (opcode 0 for an empty
 * write) and returns EMG_STREAM_STATUS_OK or the error status to answer with. The state checks
 * (e.g. SET_SAMPLE_RATE only while stopped) are the firmware's.
 */
static inline uint8_t emg_stream_parse_command(const uint8_t *data, size_t len,
                                               emg_stream_command *cmd) {
    uint16_t rate;
    if (cmd == NULL) return EMG_STREAM_STATUS_INVALID_PARAMETER;
    cmd->opcode = 0u;
    cmd->sample_rate_hz = 0u;
    cmd->batch_limit = 0u;
    if (data == NULL || len == 0u) return EMG_STREAM_STATUS_INVALID_LENGTH;
    cmd->opcode = data[0];
    switch (data[0]) {
        case EMG_STREAM_OP_START:
        case EMG_STREAM_OP_STOP:
        case EMG_STREAM_OP_GET_INFO:
        case EMG_STREAM_OP_IDENTIFY:
            return len == 1u ? EMG_STREAM_STATUS_OK : EMG_STREAM_STATUS_INVALID_LENGTH;
        case EMG_STREAM_OP_SET_SAMPLE_RATE:
            if (len != 3u) return EMG_STREAM_STATUS_INVALID_LENGTH;
            rate = emg_stream_get_u16(data + 1);
            if (!emg_stream_sample_rate_valid(rate)) return EMG_STREAM_STATUS_INVALID_PARAMETER;
            cmd->sample_rate_hz = rate;
            return EMG_STREAM_STATUS_OK;
        case EMG_STREAM_OP_SET_BATCH_LIMIT:
            if (len != 2u) return EMG_STREAM_STATUS_INVALID_LENGTH;
            cmd->batch_limit = data[1];
            return EMG_STREAM_STATUS_OK;
        default:
            return EMG_STREAM_STATUS_UNKNOWN_OPCODE;
    }
}

/**
 * Pack a response: F0, op code, status, then `data_len` bytes of `data` (may be NULL when 0).
 * Returns the bytes written, or 0 if it would not fit `out_size` or the smallest MTU.
 */
static inline size_t emg_stream_pack_response(uint8_t *out, size_t out_size, uint8_t opcode,
                                              uint8_t status, const uint8_t *data,
                                              size_t data_len) {
    size_t size = 3u + data_len;
    if (out == NULL || size > out_size || size > EMG_STREAM_RESPONSE_MAX_SIZE) return 0u;
    if (data_len > 0u && data == NULL) return 0u;
    out[0] = (uint8_t)EMG_STREAM_RESPONSE_CODE;
    out[1] = opcode;
    out[2] = status;
    if (data_len > 0u) memcpy(out + 3, data, data_len);
    return size;
}

#ifdef __cplusplus
}
#endif

#endif /* EMG_STREAM_H */
