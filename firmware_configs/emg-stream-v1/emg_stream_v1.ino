/*
 * emg_stream_v1.ino - reference firmware "emg-stream v1" for an ESP32 board with an analog EMG
 * front end: the MyoWare 2.0 Muscle Sensor on the MyoWare 2.0 Wireless Shield (RAW output on
 * A4), or any ESP32 board with one or two analog EMG sensors.
 *
 * !! This sketch is NOT compiled by the project's tests or CI: there is no ESP32 toolchain
 * !! there. It was written carefully against the Arduino-ESP32 core (3.x; the 2.x timer API
 * !! is kept behind a version check) and its "BLEDevice" library in the Bluedroid flavour (the
 * !! default on the ESP32; the callbacks below use Bluedroid's event parameters), but build and test
 * !! it on the hardware before relying on it. What IS tested on the host is emg_stream.h, which
 * !! packs every byte this sketch sends (see SPEC.md, test_vectors.json and the project's
 * !! tests/devices/test_emg_stream.py).
 *
 * Build: Arduino IDE or arduino-cli, board "ESP32 Dev Module" (the Wireless Shield is an
 * ESP32-WROOM), keep emg_stream.h in this folder. Protocol: SPEC.md in this folder.
 *
 * Structure
 *   - a hardware timer interrupt at the sample rate (1000 Hz default) stamps the tick with the
 *     device's microsecond clock and wakes the sampler task. The ESP32 Arduino core has no
 *     public ADC read that is safe inside an interrupt (analogRead takes a lock), so the
 *     conversion runs in the sampler: a task at the highest priority, pinned to the
 *     application core, that does nothing but read the ADC and store (timestamp, samples) in
 *     a lock-free ring buffer. Its wake-up latency (a few microseconds) does not move the
 *     timestamp, which is taken in the interrupt.
 *   - loop() (the only consumer of the ring) cuts the samples into packets of N, packs them
 *     with emg_stream.h and notifies them; it also runs the commands, which the BLE callbacks
 *     only queue.
 *   - on connect the firmware asks for a 7.5-15 ms connection interval (bleak cannot);
 *     on disconnect it stops streaming, restores the defaults and advertises again.
 *
 * Loss accounting (SPEC.md section 4): a packet that is formed but cannot be sent (the stack is
 * congested, or the backlog exceeds MAX_BACKLOG_MS) still consumes its sequence number, so the
 * receiver sees the gap. A hole in the sample time line itself (the sampler missed a tick or
 * the ring was full) flushes the ring and flags the next packet DISCONTINUITY.
 *
 * Part of the emg toolkit; MIT licence.
 */

#include <Arduino.h>
#include <BLE2902.h>
#include <BLEDevice.h>
#include <BLEServer.h>
#include <BLEUtils.h>
#include <esp_arduino_version.h>
#include <esp_gap_ble_api.h>
#include <esp_gatts_api.h>
#include <esp_mac.h>
#include <esp_timer.h>

#include <atomic>

#include "emg_stream.h"

// ------------------------------------------------------------------------------------------
// Configuration
// ------------------------------------------------------------------------------------------

// Channels and their analog pins. The MyoWare 2.0 Wireless Shield routes the sensor's RAW
// output to A4 (ENV to A3, REF to A5). For two sensors on one board use ADC1 pins (ADC2 is
// shared with the radio): e.g. {A4, A3} with the second sensor's RAW wired to A3.
#define EMG_CHANNELS 1
static const uint8_t CHANNEL_PINS[EMG_CHANNELS] = {A4};

static const uint16_t DEFAULT_RATE_HZ = 1000;
static const int ADC_BITS = 12;
static const int ADC_MID_SCALE = 2048;  // RAW idles at REF = half the 3.3 V supply
// 3.3 V / 4096 / 200 (ADC full scale / codes / MyoWare 2.0 RAW gain) = 4125/1024 uV per count
static const float UV_PER_COUNT = 4125.0f / 1024.0f;

static const char FIRMWARE_NAME[] = "emg-stream-esp32";
static const uint8_t FW_MAJOR = 1, FW_MINOR = 0, FW_PATCH = 0;

static const uint16_t LOCAL_MTU = 247;       // offered in the MTU exchange
static const uint32_t RING_SIZE = 2048;      // samples, a power of two (2 s at 1 kHz)
static const uint32_t MAX_BACKLOG_MS = 250;  // older unsent samples are dropped as whole packets

// Connection parameter request (units: 1.25 ms, 1.25 ms, events, 10 ms)
static const uint16_t CONN_MIN_INTERVAL = 6;   // 7.5 ms
static const uint16_t CONN_MAX_INTERVAL = 12;  // 15 ms
static const uint16_t CONN_LATENCY = 0;
static const uint16_t CONN_TIMEOUT = 400;      // 4 s

#ifdef LED_BUILTIN
static const int STATUS_LED_PIN = LED_BUILTIN;
#else
static const int STATUS_LED_PIN = -1;  // set your board's LED pin here
#endif

static_assert(EMG_CHANNELS >= 1 && EMG_CHANNELS <= EMG_STREAM_MAX_CHANNELS, "1 to 8 channels");
static_assert((RING_SIZE & (RING_SIZE - 1)) == 0, "RING_SIZE must be a power of two");

// ------------------------------------------------------------------------------------------
// Sampling: timer interrupt -> sampler task -> ring buffer
// ------------------------------------------------------------------------------------------

struct Slot {
  uint32_t t_us;               // device time of the tick, microseconds (wraps)
  int16_t v[EMG_CHANNELS];     // raw - mid-scale
};

static Slot ring[RING_SIZE];
static std::atomic<uint32_t> ring_head{0};   // samples written; only the sampler writes it
static std::atomic<uint32_t> ring_tail{0};   // samples consumed; only loop() writes it
static std::atomic<bool> ring_overrun{false};  // a hole in the time line since the last check
static std::atomic<bool> sampling{false};

static hw_timer_t *sample_timer = nullptr;
static TaskHandle_t sampler_task = nullptr;
static portMUX_TYPE tick_mux = portMUX_INITIALIZER_UNLOCKED;
static volatile uint32_t tick_count = 0;
static volatile uint32_t tick_time_us = 0;

// The interrupt only stamps the tick and wakes the sampler.
void ARDUINO_ISR_ATTR onSampleTick() {
  const uint32_t now = (uint32_t)esp_timer_get_time();
  portENTER_CRITICAL_ISR(&tick_mux);
  tick_time_us = now;
  tick_count = tick_count + 1;
  portEXIT_CRITICAL_ISR(&tick_mux);
  BaseType_t woken = pdFALSE;
  vTaskNotifyGiveFromISR(sampler_task, &woken);
  if (woken == pdTRUE) {
    portYIELD_FROM_ISR();
  }
}

static void samplerLoop(void *) {
  uint32_t last_tick = 0;
  bool first = true;
  for (;;) {
    ulTaskNotifyTake(pdTRUE, portMAX_DELAY);
    portENTER_CRITICAL(&tick_mux);
    const uint32_t tick = tick_count;
    const uint32_t t_us = tick_time_us;
    portEXIT_CRITICAL(&tick_mux);
    if (!sampling.load(std::memory_order_acquire)) {
      first = true;
      continue;
    }
    Slot slot;
    slot.t_us = t_us;
    for (int c = 0; c < EMG_CHANNELS; c++) {
      slot.v[c] = (int16_t)(analogRead(CHANNEL_PINS[c]) - ADC_MID_SCALE);
    }
    // a missed tick is a hole in the time line: flag it before publishing what follows it
    if (!first && (uint32_t)(tick - last_tick) != 1u) {
      ring_overrun.store(true, std::memory_order_release);
    }
    first = false;
    last_tick = tick;
    const uint32_t head = ring_head.load(std::memory_order_relaxed);
    const uint32_t tail = ring_tail.load(std::memory_order_acquire);
    if (head - tail >= RING_SIZE) {  // full: loop() has stalled for seconds
      ring_overrun.store(true, std::memory_order_release);
      continue;
    }
    ring[head & (RING_SIZE - 1)] = slot;
    ring_head.store(head + 1, std::memory_order_release);
  }
}

static void samplingStart(uint16_t rate_hz) {
  const uint32_t period_us = 1000000UL / rate_hz;
  sampling.store(true, std::memory_order_release);
#if ESP_ARDUINO_VERSION_MAJOR >= 3
  timerWrite(sample_timer, 0);
  timerAlarm(sample_timer, period_us, true, 0);
  timerStart(sample_timer);
#else
  timerWrite(sample_timer, 0);
  timerAlarmWrite(sample_timer, period_us, true);
  timerAlarmEnable(sample_timer);
  timerStart(sample_timer);
#endif
}

static void samplingStop() {
#if ESP_ARDUINO_VERSION_MAJOR >= 3
  timerStop(sample_timer);
#else
  timerAlarmDisable(sample_timer);
  timerStop(sample_timer);
#endif
  sampling.store(false, std::memory_order_release);
}

static void samplingSetup() {
  analogReadResolution(ADC_BITS);  // 0 .. 4095; the default 11 dB attenuation spans ~0-3.1 V
  for (int c = 0; c < EMG_CHANNELS; c++) {
    pinMode(CHANNEL_PINS[c], INPUT);
  }
  xTaskCreatePinnedToCore(samplerLoop, "emg-sampler", 4096, nullptr, configMAX_PRIORITIES - 1,
                          &sampler_task, ARDUINO_RUNNING_CORE);
#if ESP_ARDUINO_VERSION_MAJOR >= 3
  sample_timer = timerBegin(1000000);  // 1 MHz: one count per microsecond
  timerStop(sample_timer);
  timerAttachInterrupt(sample_timer, &onSampleTick);
#else
  sample_timer = timerBegin(0, 80, true);  // 80 MHz APB / 80 = 1 MHz
  timerStop(sample_timer);
  timerAttachInterrupt(sample_timer, &onSampleTick, true);
#endif
}

// ------------------------------------------------------------------------------------------
// BLE
// ------------------------------------------------------------------------------------------

static BLEServer *server = nullptr;
static BLECharacteristic *data_char = nullptr;
static BLECharacteristic *control_char = nullptr;
static BLECharacteristic *info_char = nullptr;

static std::atomic<bool> connected{false};
static std::atomic<bool> connect_event{false};
static std::atomic<bool> disconnect_event{false};
static std::atomic<bool> congested{false};
static std::atomic<bool> info_dirty{false};
static std::atomic<uint16_t> peer_mtu{23};

struct CommandMessage {
  uint8_t len;
  uint8_t bytes[8];  // every valid command is 1-3 bytes; longer writes stay invalid
};
static QueueHandle_t command_queue = nullptr;

// Streaming state, owned by loop()
static bool streaming = false;
static uint16_t rate_hz = DEFAULT_RATE_HZ;
static uint8_t batch_limit = 0;
static uint8_t samples_per_packet = 0;
static uint16_t sequence = 0;
static uint8_t pending_flags = 0;
static uint32_t backlog_limit = 0;
static uint32_t identify_until_ms = 0;
static uint32_t advertise_at_ms = 0;
static bool advertise_pending = false;

static int16_t packet_samples[EMG_CHANNELS * EMG_STREAM_MAX_SAMPLES];
static uint8_t packet_buffer[EMG_STREAM_HEADER_SIZE + 2 * EMG_CHANNELS * EMG_STREAM_MAX_SAMPLES];

class ServerCallbacks : public BLEServerCallbacks {
  void onConnect(BLEServer *, esp_ble_gatts_cb_param_t *param) override {
    // Ask the central for a short connection interval: 200-500 notifications per second at
    // small MTUs need it, and bleak cannot choose the parameters.
    esp_ble_conn_update_params_t params;
    memset(&params, 0, sizeof params);
    memcpy(params.bda, param->connect.remote_bda, sizeof(esp_bd_addr_t));
    params.min_int = CONN_MIN_INTERVAL;
    params.max_int = CONN_MAX_INTERVAL;
    params.latency = CONN_LATENCY;
    params.timeout = CONN_TIMEOUT;
    esp_ble_gap_update_conn_params(&params);
    peer_mtu.store(23);
    congested.store(false);
    connected.store(true);
    connect_event.store(true);
  }

  void onDisconnect(BLEServer *, esp_ble_gatts_cb_param_t *) override {
    connected.store(false);
    disconnect_event.store(true);
  }
};

// Extra GATT server events the library does not forward: MTU and congestion.
static void gattsEvents(esp_gatts_cb_event_t event, esp_gatt_if_t, esp_ble_gatts_cb_param_t *param) {
  switch (event) {
    case ESP_GATTS_MTU_EVT:
      peer_mtu.store(param->mtu.mtu);
      info_dirty.store(true);
      break;
    case ESP_GATTS_CONGEST_EVT:
      congested.store(param->congest.congested);
      break;
    default:
      break;
  }
}

class ControlCallbacks : public BLECharacteristicCallbacks {
  void onWrite(BLECharacteristic *, esp_ble_gatts_cb_param_t *param) override {
    CommandMessage message;
    const size_t len = param->write.len;
    message.len = (uint8_t)(len < sizeof message.bytes ? len : sizeof message.bytes);
    memcpy(message.bytes, param->write.value, message.len);
    xQueueSend(command_queue, &message, 0);  // queue full: the command is dropped
  }
};

static uint8_t currentSamplesPerPacket() {
  return (uint8_t)emg_stream_samples_per_packet(peer_mtu.load(), EMG_CHANNELS, batch_limit);
}

static size_t packInfo(uint8_t *out, size_t size) {
  emg_stream_info info;
  info.channels = EMG_CHANNELS;
  info.sample_rate_hz = rate_hz;
  info.uv_per_count = UV_PER_COUNT;
  info.samples_per_packet = streaming ? samples_per_packet : currentSamplesPerPacket();
  info.state = streaming ? EMG_STREAM_INFO_STATE_STREAMING : 0;
  info.adc_bits = ADC_BITS;
  info.fw_major = FW_MAJOR;
  info.fw_minor = FW_MINOR;
  info.fw_patch = FW_PATCH;
  info.name = FIRMWARE_NAME;
  return emg_stream_pack_info(out, size, &info);
}

static void updateInfo() {
  uint8_t buffer[EMG_STREAM_INFO_MAX_SIZE];
  const size_t n = packInfo(buffer, sizeof buffer);
  if (n > 0) {
    info_char->setValue(buffer, n);
  }
}

static void respond(uint8_t opcode, uint8_t status, const uint8_t *data, size_t data_len) {
  uint8_t buffer[EMG_STREAM_RESPONSE_MAX_SIZE];
  const size_t n = emg_stream_pack_response(buffer, sizeof buffer, opcode, status, data, data_len);
  if (n > 0 && connected.load()) {
    control_char->setValue(buffer, n);
    control_char->notify();
  }
}

// ------------------------------------------------------------------------------------------
// Streaming
// ------------------------------------------------------------------------------------------

static bool startStreaming() {
  samples_per_packet = currentSamplesPerPacket();
  if (samples_per_packet == 0) {
    return false;  // not one sample fits the MTU (only with many channels at MTU 23)
  }
  sequence = 0;
  pending_flags = EMG_STREAM_FLAG_STREAM_START;
  const uint32_t backlog = (uint32_t)rate_hz * MAX_BACKLOG_MS / 1000u;
  backlog_limit = backlog > 2u * samples_per_packet ? backlog : 2u * samples_per_packet;
  // the sampler is idle (sampling is false): empty the ring, then start the timer
  ring_tail.store(ring_head.load(std::memory_order_acquire), std::memory_order_release);
  ring_overrun.store(false);
  streaming = true;
  samplingStart(rate_hz);
  return true;
}

static void stopStreaming() {
  if (!streaming) {
    return;
  }
  samplingStop();
  streaming = false;
  ring_tail.store(ring_head.load(std::memory_order_acquire), std::memory_order_release);
}

// Form and send at most one packet; true if there may be more to do at once.
static bool pumpPackets() {
  const uint32_t head = ring_head.load(std::memory_order_acquire);
  if (ring_overrun.exchange(false, std::memory_order_acq_rel)) {
    // a hole somewhere before head: drop everything up to it, flag the next packet
    ring_tail.store(head, std::memory_order_release);
    pending_flags |= EMG_STREAM_FLAG_DISCONTINUITY;
    return false;
  }
  uint32_t tail = ring_tail.load(std::memory_order_relaxed);
  const uint32_t n = samples_per_packet;
  // bounded latency: drop the oldest whole packets, consuming their sequence numbers
  while (head - tail > backlog_limit) {
    tail += n;
    sequence = (uint16_t)(sequence + 1u);
    pending_flags &= (uint8_t)~EMG_STREAM_FLAG_STREAM_START;
  }
  ring_tail.store(tail, std::memory_order_release);
  if (head - tail < n || congested.load()) {
    return false;
  }

  emg_stream_header header;
  header.channels = EMG_CHANNELS;
  header.samples_per_channel = (uint8_t)n;
  header.flags = pending_flags;
  header.sequence = sequence;
  header.timestamp_us = ring[tail & (RING_SIZE - 1)].t_us;
  bool clipped = false;
  for (uint32_t i = 0; i < n; i++) {
    const Slot &slot = ring[(tail + i) & (RING_SIZE - 1)];
    for (int c = 0; c < EMG_CHANNELS; c++) {
      const int16_t v = slot.v[c];
      packet_samples[i * EMG_CHANNELS + c] = v;
      if (v <= -ADC_MID_SCALE || v >= (1 << ADC_BITS) - 1 - ADC_MID_SCALE) {
        clipped = true;
      }
    }
  }
  if (clipped) {
    header.flags |= EMG_STREAM_FLAG_CLIPPED;
  }
  ring_tail.store(tail + n, std::memory_order_release);

  const size_t size = emg_stream_pack_packet(packet_buffer, sizeof packet_buffer, &header,
                                             packet_samples);
  if (size > 0) {
    data_char->setValue(packet_buffer, size);
    data_char->notify();  // if the stack drops it, the receiver sees the sequence gap
  }
  sequence = (uint16_t)(sequence + 1u);
  pending_flags = 0;
  return true;
}

// ------------------------------------------------------------------------------------------
// Commands
// ------------------------------------------------------------------------------------------

static void handleCommand(const CommandMessage &message) {
  emg_stream_command command;
  uint8_t status = emg_stream_parse_command(message.bytes, message.len, &command);
  uint8_t data[EMG_STREAM_INFO_FIXED_SIZE];
  size_t data_len = 0;
  if (status == EMG_STREAM_STATUS_OK) {
    switch (command.opcode) {
      case EMG_STREAM_OP_START:
        if (!streaming && !startStreaming()) {
          status = EMG_STREAM_STATUS_INVALID_STATE;
        }
        break;
      case EMG_STREAM_OP_STOP:
        stopStreaming();
        break;
      case EMG_STREAM_OP_GET_INFO: {
        uint8_t info[EMG_STREAM_INFO_MAX_SIZE];
        if (packInfo(info, sizeof info) >= EMG_STREAM_INFO_FIXED_SIZE) {
          memcpy(data, info, EMG_STREAM_INFO_FIXED_SIZE);
          data_len = EMG_STREAM_INFO_FIXED_SIZE;
        }
        break;
      }
      case EMG_STREAM_OP_IDENTIFY:
        identify_until_ms = millis() + 3000u;
        break;
      case EMG_STREAM_OP_SET_SAMPLE_RATE:
        if (streaming) {
          status = EMG_STREAM_STATUS_INVALID_STATE;
        } else {
          rate_hz = command.sample_rate_hz;
        }
        break;
      case EMG_STREAM_OP_SET_BATCH_LIMIT:
        if (streaming) {
          status = EMG_STREAM_STATUS_INVALID_STATE;
        } else {
          batch_limit = command.batch_limit;
        }
        break;
      default:
        status = EMG_STREAM_STATUS_UNKNOWN_OPCODE;
        break;
    }
  }
  updateInfo();
  respond(command.opcode, status, data, data_len);
}

// ------------------------------------------------------------------------------------------
// Status LED: slow blink advertising, on when connected, fast blink when identifying
// ------------------------------------------------------------------------------------------

static void updateLed() {
  if (STATUS_LED_PIN < 0) {
    return;
  }
  const uint32_t now = millis();
  bool on;
  if ((int32_t)(identify_until_ms - now) > 0) {
    on = (now / 100u) % 2u == 0u;
  } else if (connected.load()) {
    on = true;
  } else {
    on = (now / 500u) % 2u == 0u;
  }
  digitalWrite(STATUS_LED_PIN, on ? HIGH : LOW);
}

// ------------------------------------------------------------------------------------------
// setup / loop
// ------------------------------------------------------------------------------------------

void setup() {
  if (STATUS_LED_PIN >= 0) {
    pinMode(STATUS_LED_PIN, OUTPUT);
  }
  command_queue = xQueueCreate(8, sizeof(CommandMessage));
  samplingSetup();

  // "EMG-" + the last two bytes of the Bluetooth address: distinct names for two sensors
  uint8_t mac[6] = {0};
  esp_read_mac(mac, ESP_MAC_BT);
  char name[12];
  snprintf(name, sizeof name, "EMG-%02X%02X", mac[4], mac[5]);

  BLEDevice::init(name);
  BLEDevice::setMTU(LOCAL_MTU);
  BLEDevice::setCustomGattsHandler(gattsEvents);
  server = BLEDevice::createServer();
  server->setCallbacks(new ServerCallbacks());

  BLEService *service = server->createService(EMG_STREAM_UUID_SERVICE);
  data_char = service->createCharacteristic(EMG_STREAM_UUID_DATA,
                                            BLECharacteristic::PROPERTY_NOTIFY);
  data_char->addDescriptor(new BLE2902());
  control_char = service->createCharacteristic(
      EMG_STREAM_UUID_CONTROL, BLECharacteristic::PROPERTY_WRITE |
                                   BLECharacteristic::PROPERTY_WRITE_NR |
                                   BLECharacteristic::PROPERTY_NOTIFY);
  control_char->addDescriptor(new BLE2902());
  control_char->setCallbacks(new ControlCallbacks());
  info_char = service->createCharacteristic(EMG_STREAM_UUID_INFO,
                                            BLECharacteristic::PROPERTY_READ);
  updateInfo();
  service->start();

  BLEAdvertising *advertising = BLEDevice::getAdvertising();
  advertising->addServiceUUID(EMG_STREAM_UUID_SERVICE);
  advertising->setScanResponse(true);  // the name goes into the scan response
  BLEDevice::startAdvertising();
}

void loop() {
  if (connect_event.exchange(false)) {
    advertise_pending = false;
    updateInfo();
  }
  if (disconnect_event.exchange(false)) {
    // every connection starts from the same state
    stopStreaming();
    rate_hz = DEFAULT_RATE_HZ;
    batch_limit = 0;
    identify_until_ms = millis();
    updateInfo();
    advertise_pending = true;  // give the stack a moment before advertising again
    advertise_at_ms = millis() + 300u;
  }
  if (advertise_pending && !connected.load() && (int32_t)(millis() - advertise_at_ms) >= 0) {
    advertise_pending = false;
    BLEDevice::startAdvertising();
  }
  if (info_dirty.exchange(false)) {
    updateInfo();
  }

  CommandMessage message;
  while (xQueueReceive(command_queue, &message, 0) == pdTRUE) {
    handleCommand(message);
  }

  bool busy = false;
  if (streaming) {
    busy = pumpPackets();
  }
  updateLed();
  if (!busy) {
    delay(1);  // let lower-priority tasks run; packets wait at most ~1 ms
  }
}
