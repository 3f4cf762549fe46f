-- The rules the domain now owns (backend/domain/workflow.py, sla.py, completion.py): a complaint's desk
-- statuses and same-day investigation clock, evidence and signatures per visit, checklists by place.

ALTER TABLE work_orders DROP CONSTRAINT work_orders_status_check;
ALTER TABLE work_orders ADD CONSTRAINT work_orders_status_check
    CHECK (status IN ('new', 'assigned', 'accepted', 'en_route', 'on_site', 'paused', 'investigating', 'solved',
                      'completed', 'signed', 'closed', 'cancelled'));

ALTER TABLE work_order_clocks DROP CONSTRAINT work_order_clocks_clock_check;
ALTER TABLE work_order_clocks ADD CONSTRAINT work_order_clocks_clock_check
    CHECK (clock IN ('respond', 'investigate', 'arrive', 'resolve', 'callback'));

-- A complaint is investigated by the end of the day it was received, in the site's time zone.
ALTER TABLE sla_policies ADD COLUMN investigate_same_day boolean NOT NULL DEFAULT false;
UPDATE sla_policies SET investigate_same_day = true WHERE site_id IS NULL AND kind = 'complaint';
-- Seeds: every repair is responded to within 4 h and reached within 24 h; P4 was looser than that.
UPDATE sla_policies SET respond_minutes = 240, arrive_minutes = 1440
WHERE site_id IS NULL AND kind = 'repair' AND priority = 4;

-- A reopened job is a new visit with its own photos and signature; the earlier ones stay.
ALTER TABLE photos ADD COLUMN visit int NOT NULL DEFAULT 1 CHECK (visit > 0);
ALTER TABLE photos DROP CONSTRAINT photos_work_order_id_sha256_stage_key;
ALTER TABLE photos ADD CONSTRAINT photos_visit_image UNIQUE (work_order_id, visit, sha256, stage);
ALTER TABLE signatures ADD COLUMN visit int NOT NULL DEFAULT 1 CHECK (visit > 0);
ALTER TABLE superseded_signatures ADD COLUMN visit int NOT NULL DEFAULT 1;

-- Home-visit items apply in a home; a plant room or a common area has its own list.
ALTER TABLE checklist_items ADD COLUMN place text NOT NULL DEFAULT 'any'
    CHECK (place IN ('home', 'common', 'any'));
UPDATE checklist_items SET place = 'home' WHERE site_id IS NULL AND kind IN ('repair', 'emergency');
INSERT INTO checklist_items (site_id, kind, code, position, label_zh, label_en, required, place)
SELECT NULL, k.kind, i.code, i.position, i.label_zh, i.label_en, i.required, 'common'
FROM (VALUES ('repair'), ('emergency')) AS k(kind)
CROSS JOIN (VALUES
    ('isolate_lockout', 11, '断电断水并挂牌上锁',     'Isolate the supply and lock it out',   true),
    ('safety_gear',     12, '穿戴安全防护用品',       'Wear the safety gear',                 true),
    ('photo_fault_area', 13, '拍摄故障部位照片',      'Photograph the fault',                 true),
    ('test_restore',    14, '恢复供应并试运行正常',    'Restore the supply and test it runs',  true),
    ('tidy_area',       15, '清理现场',              'Tidy the area',                        true),
    ('record_readings', 16, '记录运行读数',           'Record the readings',                  false)
) AS i(code, position, label_zh, label_en, required)
ON CONFLICT DO NOTHING;
