"""Daniel AI (Vapi) voice calls, written with asyncpg."""

INSERT_VOICE_CALL = "INSERT INTO titan.voice_calls (call_id, phone, summary) VALUES ($1, $2, $3)"


async def store_voice_calls(conn, calls):
    await conn.executemany(INSERT_VOICE_CALL, [(c["callId"], c["phone"], c.get("summary")) for c in calls])
