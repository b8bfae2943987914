import { sql, type Kysely } from 'kysely'
import { up as createRowLevelStreakRuns } from './2026-11-22T02-00_streak_runs.js'

// The runs of consecutive days are now kept once per statement for inserts and deletes: the
// triggers see all rows a statement inserted or deleted (transition tables) and change each user's
// runs once per island of consecutive days. A statement that writes many entries of one user — an
// import, a fixture, the deletion of an account — then writes a few run rows instead of updating
// one run row per entry (which left a dead row version per entry until vacuum, and made deleting a
// long history quadratic when longest had to be recomputed at each step). A statement of one
// entry (every write of the service) takes a shorter path with the same few lookups as before.
// Moving entries to other days (update of day or user_id) stays a row trigger: transition tables
// cannot go with a column list, and a trigger on every update would tax every PATCH of a score.
//
// Locking is unchanged: streak_lock_user (row lock on the user's user_streaks row, until commit),
// taken before the user's runs or entries are read, users in user_id order.

export async function up (db: Kysely<any>): Promise<void> {
  await sql`lock table entries in share row exclusive mode`.execute(db)
  for (const trigger of ['entries_streak_runs_insert', 'entries_streak_runs_delete', 'entries_streak_runs_update']) {
    await sql`drop trigger ${sql.id(trigger)} on entries`.execute(db)
  }
  await sql`drop function entries_streak_runs()`.execute(db)
  await sql`drop function streak_add_day(text, date)`.execute(db)
  await sql`drop function streak_remove_day(text, date)`.execute(db)

  // Adds the island of consecutive days [p_first, p_last], none of them in a run yet: joins the
  // run ending the day before and the run starting the day after, if any. Returns the length of
  // the run the island ends up in. The caller holds the user's lock.
  await sql`
    create function streak_add_island (p_user text, p_first date, p_last date) returns integer
    language plpgsql set search_path from current as $$
    declare
      v_prev_first date;
      v_prev_last date;
      v_next_last date;
    begin
      select first_day, last_day into v_prev_first, v_prev_last
        from streak_runs where user_id = p_user and first_day < p_first order by first_day desc limit 1;
      if v_prev_last is distinct from p_first - 1 then
        v_prev_first := null;
      end if;
      select last_day into v_next_last from streak_runs where user_id = p_user and first_day = p_last + 1;
      if v_prev_first is not null then
        if v_next_last is not null then
          delete from streak_runs where user_id = p_user and first_day = p_last + 1;
        end if;
        update streak_runs set last_day = coalesce(v_next_last, p_last) where user_id = p_user and first_day = v_prev_first;
      elsif v_next_last is not null then
        update streak_runs set first_day = p_first where user_id = p_user and first_day = p_last + 1;
      else
        insert into streak_runs (user_id, first_day, last_day) values (p_user, p_first, p_last);
      end if;
      return coalesce(v_next_last, p_last) - coalesce(v_prev_first, p_first) + 1;
    end
    $$
  `.execute(db)

  // Removes the island of consecutive days [p_first, p_last], all in one run (they all had an
  // entry, and runs never touch): shrinks, splits or deletes that run. Returns the length the
  // run had, or 0 when no run holds p_first. The caller holds the user's lock.
  await sql`
    create function streak_remove_island (p_user text, p_first date, p_last date) returns integer
    language plpgsql set search_path from current as $$
    declare
      v_first date;
      v_last date;
      v_island_last date;
    begin
      select first_day, last_day into v_first, v_last
        from streak_runs where user_id = p_user and first_day <= p_first order by first_day desc limit 1;
      if v_last is null or v_last < p_first then
        return 0; -- already out of every run
      end if;
      v_island_last := least(p_last, v_last);
      if v_first = p_first and v_last = v_island_last then
        delete from streak_runs where user_id = p_user and first_day = v_first;
      elsif v_first = p_first then
        update streak_runs set first_day = v_island_last + 1 where user_id = p_user and first_day = v_first;
      elsif v_last = v_island_last then
        update streak_runs set last_day = p_first - 1 where user_id = p_user and first_day = v_first;
      else
        update streak_runs set last_day = p_first - 1 where user_id = p_user and first_day = v_first;
        insert into streak_runs (user_id, first_day, last_day) values (p_user, v_island_last + 1, v_last);
      end if;
      return v_last - v_first + 1;
    end
    $$
  `.execute(db)

  // The days of one statement's new entries of one user.
  await sql`
    create function streak_add_days (p_user text, p_days date[]) returns void
    language plpgsql set search_path from current as $$
    declare
      v_longest integer;
      v_longest_before integer;
      v_day date;
      v_last date;
      v_island record;
    begin
      if coalesce(cardinality(p_days), 0) = 0 then
        return;
      end if;
      v_longest := streak_lock_user(p_user);
      v_longest_before := v_longest;
      if cardinality(p_days) = 1 then
        v_day := p_days[1];
        select last_day into v_last
          from streak_runs where user_id = p_user and first_day <= v_day order by first_day desc limit 1;
        if v_last >= v_day then
          return; -- the day already has an entry
        end if;
        v_longest := greatest(v_longest, streak_add_island(p_user, v_day, v_day));
      else
        -- The days no run covers yet, as islands of consecutive days (gaps and islands).
        for v_island in
          select min(day) as first_day, max(day) as last_day
          from (
            select day, day - (row_number() over (order by day))::int as island
            from (select distinct day from unnest(p_days) as added(day)) as days
            where not exists (
              select 1
              from (
                select r.last_day from streak_runs r
                where r.user_id = p_user and r.first_day <= days.day
                order by r.first_day desc
                limit 1
              ) as containing
              where containing.last_day >= days.day
            )
          ) as numbered
          group by island
          order by first_day
        loop
          v_longest := greatest(v_longest, streak_add_island(p_user, v_island.first_day, v_island.last_day));
        end loop;
      end if;
      if v_longest > v_longest_before then
        update user_streaks set longest = v_longest where user_id = p_user;
      end if;
    end
    $$
  `.execute(db)

  // The days of one statement's removed (or moved) entries of one user: those left without an entry leave their runs.
  await sql`
    create function streak_remove_days (p_user text, p_days date[]) returns void
    language plpgsql set search_path from current as $$
    declare
      v_longest integer;
      v_day date;
      v_island record;
      v_recompute boolean := false;
    begin
      if coalesce(cardinality(p_days), 0) = 0 then
        return;
      end if;
      v_longest := streak_lock_user(p_user);
      if cardinality(p_days) = 1 then
        v_day := p_days[1];
        if exists (select 1 from entries where user_id = p_user and day = v_day) then
          return; -- another entry keeps the day
        end if;
        v_recompute := streak_remove_island(p_user, v_day, v_day) >= v_longest;
      else
        for v_island in
          select min(day) as first_day, max(day) as last_day
          from (
            select day, day - (row_number() over (order by day))::int as island
            from (select distinct day from unnest(p_days) as removed(day)) as days
            where not exists (select 1 from entries e where e.user_id = p_user and e.day = days.day)
          ) as numbered
          group by island
          order by first_day
        loop
          if streak_remove_island(p_user, v_island.first_day, v_island.last_day) >= v_longest then
            v_recompute := true;
          end if;
        end loop;
      end if;
      -- Only a longest run getting shorter can lower the longest: then look at all of the user's runs.
      if v_recompute then
        update user_streaks
          set longest = coalesce((select max(last_day - first_day + 1) from streak_runs where user_id = p_user), 0)
          where user_id = p_user;
      end if;
    end
    $$
  `.execute(db)

  await sql`
    create function entries_streak_runs_inserted () returns trigger
    language plpgsql set search_path from current as $$
    declare
      v_user text;
    begin
      for v_user in select distinct user_id from inserted order by user_id loop
        perform streak_add_days(v_user, array(select day from inserted where user_id = v_user));
      end loop;
      return null;
    end
    $$
  `.execute(db)

  await sql`
    create function entries_streak_runs_deleted () returns trigger
    language plpgsql set search_path from current as $$
    declare
      v_user text;
    begin
      for v_user in select distinct user_id from deleted order by user_id loop
        perform streak_remove_days(v_user, array(select day from deleted where user_id = v_user));
      end loop;
      return null;
    end
    $$
  `.execute(db)

  await sql`
    create function entries_streak_runs_moved () returns trigger
    language plpgsql set search_path from current as $$
    begin
      perform streak_remove_days(old.user_id, array[old.day]);
      perform streak_add_days(new.user_id, array[new.day]);
      return null;
    end
    $$
  `.execute(db)

  await sql`
    create trigger entries_streak_runs_inserted after insert on entries
    referencing new table as inserted for each statement execute function entries_streak_runs_inserted()
  `.execute(db)
  await sql`
    create trigger entries_streak_runs_deleted after delete on entries
    referencing old table as deleted for each statement execute function entries_streak_runs_deleted()
  `.execute(db)
  await sql`
    create trigger entries_streak_runs_moved after update of user_id, day on entries for each row
    when (old.user_id is distinct from new.user_id or old.day is distinct from new.day)
    execute function entries_streak_runs_moved()
  `.execute(db)
}

/**
 * Back to the row-level triggers of the previous migration: everything of the streak runs is
 * dropped and that migration's `up` creates it again, runs backfilled from the entries.
 */
export async function down (db: Kysely<any>): Promise<void> {
  await sql`lock table entries in share row exclusive mode`.execute(db)
  for (const trigger of ['entries_streak_runs_inserted', 'entries_streak_runs_deleted', 'entries_streak_runs_moved', 'entries_streak_runs_truncate']) {
    await sql`drop trigger ${sql.id(trigger)} on entries`.execute(db)
  }
  for (const fn of ['entries_streak_runs_inserted()', 'entries_streak_runs_deleted()', 'entries_streak_runs_moved()', 'entries_streak_runs_truncate()',
    'streak_add_days(text, date[])', 'streak_remove_days(text, date[])', 'streak_add_island(text, date, date)', 'streak_remove_island(text, date, date)',
    'streak_lock_user(text)']) {
    await sql`drop function ${sql.raw(fn)}`.execute(db)
  }
  await db.schema.dropTable('user_streaks').execute()
  await db.schema.dropTable('streak_runs').execute()
  await createRowLevelStreakRuns(db)
}
