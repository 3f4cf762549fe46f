-- Work-order defaults: company-wide SLA policies (DESIGN.md "Clocks"), the on-site checklists (DOMAIN.md
-- "On site"), and when each clock started, so escalation can wait "a further half of the clock".

ALTER TABLE work_order_clocks ADD COLUMN starts_at timestamptz;
UPDATE work_order_clocks c SET starts_at = w.created_at FROM work_orders w WHERE w.id = c.work_order_id;
ALTER TABLE work_order_clocks ALTER COLUMN starts_at SET NOT NULL;

-- The callback queue reads open callback clocks by due time.
CREATE INDEX work_order_clocks_callback_due ON work_order_clocks (due_at)
    WHERE clock = 'callback' AND met_at IS NULL;

-- Minutes; NULL: the clock does not apply. Callback: next day after a repair, within 3 days after a complaint.
INSERT INTO sla_policies (site_id, kind, priority, respond_minutes, arrive_minutes, resolve_minutes, callback_minutes)
VALUES
    (NULL, 'emergency',   1,    5,   30,   240, 1440),
    (NULL, 'emergency',   2,   30,  120,  1440, 1440),
    (NULL, 'emergency',   3,  240, 1440,  4320, 1440),
    (NULL, 'emergency',   4,  240, 1440,  4320, 1440),
    (NULL, 'repair',      1,    5,   30,   240, 1440),
    (NULL, 'repair',      2,   30,  120,  1440, 1440),
    (NULL, 'repair',      3,  240, 1440,  4320, 1440),
    (NULL, 'repair',      4, 1440, 4320, 10080, 1440),
    (NULL, 'complaint',   1,  120, NULL,  1440, 4320),
    (NULL, 'complaint',   2, 1440, NULL,  4320, 4320),
    (NULL, 'complaint',   3, 1440, NULL,  4320, 4320),
    (NULL, 'complaint',   4, 1440, NULL,  4320, 4320),
    -- planned work is created ahead of its due day: a day to pick it up, three to do it
    (NULL, 'maintenance', 1,  240, NULL,  1440, NULL),
    (NULL, 'maintenance', 2, 1440, NULL,  4320, NULL),
    (NULL, 'maintenance', 3, 1440, NULL,  4320, NULL),
    (NULL, 'maintenance', 4, 1440, NULL, 10080, NULL),
    (NULL, 'inspection',  1,   30,  120,   480, NULL),
    (NULL, 'inspection',  2,  120,  480,  1440, NULL),
    (NULL, 'inspection',  3,  240, 1440,  4320, NULL),
    (NULL, 'inspection',  4, 1440, 4320, 10080, NULL)
ON CONFLICT DO NOTHING;

-- The home-visit checklist, from the sources' failed-visit case study (DOMAIN.md "On site").
INSERT INTO checklist_items (site_id, kind, code, position, label_zh, label_en, required)
SELECT NULL, k.kind, i.code, i.position, i.label_zh, i.label_en, i.required
FROM (VALUES ('repair'), ('emergency')) AS k(kind)
CROSS JOIN (VALUES
    ('introduce',       1, '自我介绍并出示工作证',           'Introduce yourself and show your badge',                 true),
    ('consent',         2, '征得业主同意后进入及拆装',         'Get consent to enter and to dismantle',                  true),
    ('covers',          3, '铺设防护垫布',                   'Lay protective covers',                                  true),
    ('photo_fault',     4, '拍摄故障照片',                   'Photograph the fault',                                   true),
    ('test_explain',    5, '当面试用并讲解原因及预防方法',       'Test in front of the owner; explain the cause and prevention', true),
    ('clean_up',        6, '清理现场、恢复原状',               'Clean up and put things back',                           true),
    ('parts_taken',     7, '带走更换下的旧件并开具收据',         'Take away replaced parts with a receipt',                false)
) AS i(code, position, label_zh, label_en, required)
ON CONFLICT DO NOTHING;

INSERT INTO checklist_items (site_id, kind, code, position, label_zh, label_en, required)
VALUES
    (NULL, 'maintenance', 'inspect',   1, '按保养规程逐项检查',   'Inspect every item of the maintenance procedure', true),
    (NULL, 'maintenance', 'record',    2, '填写保养记录',        'Fill in the maintenance record',                  true),
    (NULL, 'maintenance', 'test_run',  3, '试运行正常',          'Test run is normal',                              true),
    (NULL, 'maintenance', 'clean_up',  4, '清理现场',            'Clean up',                                        false)
ON CONFLICT DO NOTHING;
