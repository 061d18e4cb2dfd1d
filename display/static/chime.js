// A two-tone chime made with the Web Audio API: no sound file to load.
//
// Browsers keep audio muted until a person taps the page once. The display
// shows a button until then and remembers the choice; a TV in Chromium's
// kiosk mode can skip the tap with --autoplay-policy=no-user-gesture-required.
"use strict";

window.Navbat = window.Navbat || {};

Navbat.Chime = class {
  constructor() {
    const Context = window.AudioContext || window.webkitAudioContext;
    this.context = Context ? new Context() : null;
  }

  get blocked() {
    return !this.context || this.context.state !== "running";
  }

  unlock() {
    if (!this.context) return Promise.resolve();
    localStorage.setItem("navbat.sound", "on");
    return this.context.resume();
  }

  play() {
    if (this.blocked) return;
    const start = this.context.currentTime + 0.05;
    this.tone(659.25, start, 0.9); // E5
    this.tone(523.25, start + 0.45, 1.3); // C5
  }

  tone(frequency, at, length) {
    const oscillator = this.context.createOscillator();
    const gain = this.context.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.5, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
    oscillator.connect(gain).connect(this.context.destination);
    oscillator.start(at);
    oscillator.stop(at + length + 0.05);
  }
};
