from __future__ import annotations

from django.urls import path

from monitoring import views
from monitoring.inbox.urls import inbox_urlpatterns
from monitoring.reminders.urls import reminder_urlpatterns

app_name = "monitoring"

urlpatterns = [
    path("protocol/", views.protocol, name="protocol"),
    path("protocol/new/", views.protocol_new, name="protocol_new"),
    path("draws/<int:draw_pk>/", views.draw_results, name="draw"),
    path("draws/<int:draw_pk>/missed/", views.draw_missed, name="draw_missed"),
    path("draws/<int:draw_pk>/move/", views.draw_move, name="draw_move"),
    path("flags/<int:flag_pk>/acknowledge/", views.flag_acknowledge, name="flag_acknowledge"),
    path(
        "flags/<int:flag_pk>/acknowledgements/<int:ack_pk>/void/",
        views.acknowledgement_void_view,
        name="acknowledgement_void",
    ),
    path("cases/<int:pk>/steroids/", views.steroid_review, name="steroids"),
    path("cases/<int:pk>/steroids/<int:decision_pk>/correct/", views.steroid_correct, name="steroid_correct"),
    path("milestones/<int:milestone_pk>/", views.milestone_assess, name="milestone"),
    path(
        "milestones/<int:milestone_pk>/assessments/<int:assessment_pk>/void/",
        views.assessment_void_view,
        name="assessment_void",
    ),
    path("cases/<int:pk>/charts/<slug:chart>.svg", views.chart, name="chart"),
    path("cases/<int:pk>/schedule.ics", views.case_ics, name="case_ics"),
    path("calendar.ics", views.sites_ics, name="sites_ics"),
    path("worklist/<slug:group>/", views.worklist_group, name="worklist_group"),
]

urlpatterns += reminder_urlpatterns
urlpatterns += inbox_urlpatterns
