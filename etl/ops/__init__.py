"""Operations around imports: the inbox, schedules, exports."""
