\pset format unaligned
\pset tuples_only on
\pset footer off
select (extract(epoch from clock_timestamp())*1000)::bigint, pid, backend_type, state, coalesce(wait_event_type,'-'), coalesce(wait_event,'-'), (extract(epoch from clock_timestamp()-query_start)*1000)::int, (extract(epoch from clock_timestamp()-xact_start)*1000)::int, pg_blocking_pids(pid), left(regexp_replace(query,'\s+',' ','g'),70) from pg_stat_activity where pid<>pg_backend_pid() and backend_type in ('client backend','walsender') and state is distinct from 'idle' and (coalesce(wait_event_type,'') not in ('Client','Activity') or (backend_type='client backend' and clock_timestamp()-query_start > interval '30 ms')) \watch 0.025
