BEGIN TRANSACTION;
CREATE TABLE items (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    dedup_key      TEXT NOT NULL UNIQUE,
    message_id     TEXT,
    transaction_id TEXT,
    recipient      TEXT,
    recipients     TEXT NOT NULL DEFAULT '[]',
    sender         TEXT,
    mm_status      TEXT,
    status_text    TEXT,
    normalized     TEXT,
    subject        TEXT,
    linked_id      TEXT,
    timestamp      TEXT,
    received_at    TEXT NOT NULL,
    handled_at     TEXT,
    duplicates     INTEGER NOT NULL DEFAULT 0,
    last_seen_at   TEXT,
    content_type   TEXT,
    raw_body       BLOB
);
INSERT INTO "items" VALUES(1,'delivery_report','54ab602557d7f075a47ee29a832bd12fd59c179f08cebd8def541c042d06445b','MID-1','t','01088880001','["01088880001"]','15881234','Retrieved','OK','{"provider": "LGT", "msg_type": 2, "result_type": 2, "origin_result": "Retrieved", "convert_result": -100, "result_message": "OK", "explanation": "수신 성공", "category": "success", "pause_seconds": null, "known": true, "status_text": "OK", "matched_origin": "Retrieved"}',NULL,NULL,NULL,'2026-12-02T06:29:50.877292+00:00','2026-12-02T06:29:50.891066+00:00',1,'2026-12-02T06:29:50.879132+00:00','text/xml',X'3C7261772F3E');
INSERT INTO "items" VALUES(2,'delivery_report','361dde7819cfa70d4a55d801ece304b8c2ca64724d027a6c82b944979904305d','MID-2','t','01088880001','["01088880001"]','15881234','Retrieved','NOK','{"provider": "LGT", "msg_type": 2, "result_type": 2, "origin_result": "Retrieved", "convert_result": -100, "result_message": "NOK", "explanation": "스팸차단 메시지 (전송은 차단 되었으나 MMS G/W 에서는 과금처리 됨)", "category": "failed", "pause_seconds": null, "known": true, "status_text": "NOK", "matched_origin": "Retrieved"}',NULL,NULL,NULL,'2026-12-02T06:29:50.879931+00:00',NULL,0,NULL,NULL,X'');
INSERT INTO "items" VALUES(3,'delivery_report','8cab7548c467a3871f078159586e24b35d00c1073ecea8477e4c9217a92b4970','MID-3','t','01088880001','["01088880001"]','15881234','Expired',NULL,'{"provider": "LGT", "msg_type": 2, "result_type": 2, "origin_result": "Expired", "convert_result": 3020, "result_message": "NOK", "explanation": "기간 만료", "category": "failed", "pause_seconds": null, "known": true, "status_text": null, "matched_origin": "Expired"}',NULL,NULL,NULL,'2026-12-02T06:29:50.881019+00:00',NULL,0,NULL,NULL,X'');
INSERT INTO "items" VALUES(4,'delivery_report','9b8591cf9f4917287ea0924a76d00ad9322b4f88a2c1dae81316274d318df0d2','MID-4','t','01000000000','["01000000000"]','15881234','Rejected','NOK','{"provider": "LGT", "msg_type": 2, "result_type": 2, "origin_result": "Rejected", "convert_result": 3100, "result_message": "NOK", "explanation": "MMS 착신거절 가입자", "category": "failed", "pause_seconds": null, "known": true, "status_text": "NOK", "matched_origin": "Rejected"}',NULL,NULL,NULL,'2026-12-02T06:29:50.882039+00:00',NULL,0,NULL,NULL,X'');
INSERT INTO "items" VALUES(5,'read_reply','b240105674fcaf10a03947051fb162183fa5aeaccd4fe67b59141972b3e67fd9','MID-1',NULL,'01088880001','["01088880001"]',NULL,'Read',NULL,NULL,NULL,NULL,NULL,'2026-12-02T06:29:50.883236+00:00',NULL,0,NULL,NULL,X'');
INSERT INTO "items" VALUES(6,'deliver','171832cfe69c60d05524bfec300d404d0ff90c00f63f32823c622df5a2d9c054',NULL,'mo','15881234','["15881234"]','01011112222',NULL,NULL,NULL,'사진',NULL,'2024-05-01T12:00:00+00:00','2026-12-02T06:29:50.884303+00:00',NULL,0,NULL,NULL,X'');
CREATE TABLE parts (
    item_id      INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    filename     TEXT,
    content_id   TEXT,
    charset      TEXT,
    headers      TEXT NOT NULL DEFAULT '{}',
    text         TEXT,
    data         BLOB NOT NULL,
    PRIMARY KEY (item_id, idx)
);
INSERT INTO "parts" VALUES(6,0,'text/plain',NULL,NULL,'euc-kr','{}','안녕',X'BEC8B3E7');
CREATE TABLE submits (
    message_id     TEXT PRIMARY KEY,
    transaction_id TEXT,
    recipients     TEXT NOT NULL DEFAULT '[]',
    vas_id         TEXT,
    subject        TEXT,
    normalized     TEXT,
    recorded_at    TEXT NOT NULL
);
INSERT INTO "submits" VALUES('MID-1','st','["01088880001"]','VAS','hello','{"provider": "LGT", "msg_type": 2, "result_type": 1, "origin_result": "1000", "convert_result": 99, "result_message": "Success", "explanation": "메시지가 성공적으로 처리 되었음", "category": "success", "pause_seconds": null, "known": true, "status_text": "Success", "matched_origin": "1000"}','2026-12-02T06:29:50.887536+00:00');
CREATE INDEX items_pending ON items(id) WHERE handled_at IS NULL;
CREATE INDEX items_message_id ON items(message_id);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('items',6);
COMMIT;
