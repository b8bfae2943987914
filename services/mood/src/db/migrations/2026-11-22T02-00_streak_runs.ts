import { sql, type Kysely } from 'kysely'

// Streaks kept as runs of consecutive days, so that reading a streak costs a few index lookups
// whatever the length of the user's history. Every change of `entries` that adds a day, removes a
// day's last entry or moves an entry to another day updates the runs in the same transaction:
// the triggers below fire for every write, the service's own and any other (imports, fixtures).
//
// One user's changes are serialised by a row lock on their `user_streaks` row, taken after the
// entry row has changed and held until commit, so the lock holder sees every earlier change of
// that user committed, and a change still waiting for the lock corrects the runs when it gets it.
//
// The functions run with the search_path of this migration (the service's schema), whatever the
// search_path of the session that writes to `entries`.

export async function up (db: Kysely<any>): Promise<void> {
  // No writes to entries until the runs are backfilled and the triggers exist (reads go on).
  await sql`lock table entries in share row exclusive mode`.execute(db)

  await db.schema.createTable('streak_runs')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('first_day', 'date', (c) => c.notNull())
    .addColumn('last_day', 'date', (c) => c.notNull())
    .addPrimaryKeyConstraint('streak_runs_pkey', ['user_id', 'first_day'])
    .addCheckConstraint('streak_runs_order', sql`last_day >= first_day`)
    .execute()
  // No index on last_day: the run containing a day is the one with the greatest first_day <= day
  // (runs never overlap nor touch), and extending a run's last_day stays a HOT update.

  await db.schema.createTable('user_streaks')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('longest', 'integer', (c) => c.notNull().check(sql`longest >= 0`))
    .execute()

  await sql`
    create function streak_lock_user (p_user text) returns integer
    language plpgsql set search_path from current as $$
    declare
      v_longest integer;
    begin
      select longest into v_longest from user_streaks where user_id = p_user for update;
      if not found then
        insert into user_streaks (user_id, longest) values (p_user, 0) on conflict (user_id) do nothing;
        select longest into v_longest from user_streaks where user_id = p_user for update;
      end if;
      return v_longest;
    end
    $$
  `.execute(db)

  await sql`
    create function streak_add_day (p_user text, p_day date) returns void
    language plpgsql set search_path from current as $$
    declare
      v_longest integer := streak_lock_user(p_user);
      v_first date;
      v_last date;
      v_next_last date;
      v_length integer;
    begin
      select first_day, last_day into v_first, v_last
        from streak_runs where user_id = p_user and first_day <= p_day order by first_day desc limit 1;
      if v_last >= p_day then
        return; -- the day already has an entry
      end if;
      select last_day into v_next_last from streak_runs where user_id = p_user and first_day = p_day + 1;
      if v_last = p_day - 1 then
        -- The run ending yesterday grows, and swallows the run starting tomorrow.
        if v_next_last is not null then
          delete from streak_runs where user_id = p_user and first_day = p_day + 1;
        end if;
        update streak_runs set last_day = coalesce(v_next_last, p_day) where user_id = p_user and first_day = v_first;
        v_length := coalesce(v_next_last, p_day) - v_first + 1;
      elsif v_next_last is not null then
        update streak_runs set first_day = p_day where user_id = p_user and first_day = p_day + 1;
        v_length := v_next_last - p_day + 1;
      else
        insert into streak_runs (user_id, first_day, last_day) values (p_user, p_day, p_day);
        v_length := 1;
      end if;
      if v_length > v_longest then
        update user_streaks set longest = v_length where user_id = p_user;
      end if;
    end
    $$
  `.execute(db)

  await sql`
    create function streak_remove_day (p_user text, p_day date) returns void
    language plpgsql set search_path from current as $$
    declare
      v_longest integer := streak_lock_user(p_user);
      v_first date;
      v_last date;
    begin
      if exists (select 1 from entries where user_id = p_user and day = p_day) then
        return; -- another entry keeps the day
      end if;
      select first_day, last_day into v_first, v_last
        from streak_runs where user_id = p_user and first_day <= p_day order by first_day desc limit 1;
      if v_last is null or v_last < p_day then
        return; -- already out of every run
      end if;
      if v_first = p_day and v_last = p_day then
        delete from streak_runs where user_id = p_user and first_day = v_first;
      elsif v_first = p_day then
        update streak_runs set first_day = p_day + 1 where user_id = p_user and first_day = v_first;
      elsif v_last = p_day then
        update streak_runs set last_day = p_day - 1 where user_id = p_user and first_day = v_first;
      else
        update streak_runs set last_day = p_day - 1 where user_id = p_user and first_day = v_first;
        insert into streak_runs (user_id, first_day, last_day) values (p_user, p_day + 1, v_last);
      end if;
      -- Only a longest run getting shorter can lower the longest: then look at all of the user's runs.
      if v_last - v_first + 1 >= v_longest then
        update user_streaks
          set longest = coalesce((select max(last_day - first_day + 1) from streak_runs where user_id = p_user), 0)
          where user_id = p_user;
      end if;
    end
    $$
  `.execute(db)

  await sql`
    create function entries_streak_runs () returns trigger
    language plpgsql set search_path from current as $$
    begin
      if tg_op = 'INSERT' then
        perform streak_add_day(new.user_id, new.day);
      elsif tg_op = 'DELETE' then
        perform streak_remove_day(old.user_id, old.day);
      else
        perform streak_remove_day(old.user_id, old.day);
        perform streak_add_day(new.user_id, new.day);
      end if;
      return null;
    end
    $$
  `.execute(db)

  await sql`
    create function entries_streak_runs_truncate () returns trigger
    language plpgsql set search_path from current as $$
    begin
      truncate streak_runs, user_streaks;
      return null;
    end
    $$
  `.execute(db)

  // The runs of the entries already stored: gaps and islands, once.
  await sql`
    insert into streak_runs (user_id, first_day, last_day)
    select user_id, min(day), max(day)
    from (
      select user_id, day, day - (row_number() over (partition by user_id order by day))::int as island
      from (select distinct user_id, day from entries) as days
    ) as numbered
    group by user_id, island
  `.execute(db)
  await sql`
    insert into user_streaks (user_id, longest)
    select user_id, max(last_day - first_day + 1) from streak_runs group by user_id
  `.execute(db)

  await sql`create trigger entries_streak_runs_insert after insert on entries for each row execute function entries_streak_runs()`.execute(db)
  await sql`create trigger entries_streak_runs_delete after delete on entries for each row execute function entries_streak_runs()`.execute(db)
  await sql`
    create trigger entries_streak_runs_update after update of user_id, day on entries for each row
    when (old.user_id is distinct from new.user_id or old.day is distinct from new.day)
    execute function entries_streak_runs()
  `.execute(db)
  await sql`create trigger entries_streak_runs_truncate after truncate on entries for each statement execute function entries_streak_runs_truncate()`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const trigger of ['entries_streak_runs_insert', 'entries_streak_runs_delete', 'entries_streak_runs_update', 'entries_streak_runs_truncate']) {
    await sql`drop trigger ${sql.id(trigger)} on entries`.execute(db)
  }
  await sql`drop function entries_streak_runs_truncate()`.execute(db)
  await sql`drop function entries_streak_runs()`.execute(db)
  await sql`drop function streak_remove_day(text, date)`.execute(db)
  await sql`drop function streak_add_day(text, date)`.execute(db)
  await sql`drop function streak_lock_user(text)`.execute(db)
  await db.schema.dropTable('user_streaks').execute()
  await db.schema.dropTable('streak_runs').execute()
}
