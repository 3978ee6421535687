/**
 * The MQTT 5 user property with which sink-mqtt marks what it published (value: the sink's connector name), and
 * which source-mqtt skips (`ignore_origins`): an MQTT → Danube → MQTT bridge over overlapping topics then cannot
 * feed its own output back into Danube. MQTT 3.1.1 has no user properties, so there is no mark there.
 */
export const ORIGIN_PROPERTY = 'danube-origin';
