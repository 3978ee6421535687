// @danube-connect/mqtt/testing: a real mosquitto for the MQTT plugins' tests.
export { Mosquitto, type MosquittoOptions, type MosquittoTlsListener } from './mosquitto.js';
