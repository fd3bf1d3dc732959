package io.tandem.server.zab;

/** The server state of Zab's fast leader election, also carried in election notifications. */
public enum Role { LOOKING, FOLLOWING, LEADING }
