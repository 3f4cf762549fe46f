-- A follow-up call asks the drivers the seeds measured (seeds-digest §7: response speed 32 %, attitude 28 %,
-- facility maintenance 20 % of satisfaction) and the 0-10 willingness to recommend (NPS), besides the
-- overall 1-5 satisfaction. All optional; only a call that reached the owner carries answers.
ALTER TABLE callbacks
    ADD COLUMN speed     smallint CHECK (speed BETWEEN 1 AND 5),
    ADD COLUMN attitude  smallint CHECK (attitude BETWEEN 1 AND 5),
    ADD COLUMN quality   smallint CHECK (quality BETWEEN 1 AND 5),
    ADD COLUMN recommend smallint CHECK (recommend BETWEEN 0 AND 10),
    ADD CONSTRAINT callbacks_answers_need_reach
        CHECK (reached OR (speed IS NULL AND attitude IS NULL AND quality IS NULL AND recommend IS NULL));
