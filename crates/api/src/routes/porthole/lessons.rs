//! The classroom lessons, for `porthole lesson run` and a dashboard panel: `GET
//! /porthole/lessons` (the shipped ones), `GET /porthole/lessons/{name}` (its steps, as in its
//! file), `GET /porthole/lessons/{name}/steps/{n}/check` (step `n`, from 1, evaluated now
//! against the engine: each precondition and check, passed or the reason), and `POST
//! /porthole/lessons/check` (the same for a step sent as JSON, so a lesson file being written
//! can be run before it ships). Evaluating changes nothing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use porthole_core::lesson::{Created, Lesson, Step, StepOutcome};
use porthole_engine::lessons::{self, SHIPPED};

use super::super::AppState;
use crate::error::{ApiError, ApiResult, blocking};

/// A lesson in the list.
#[derive(serde::Serialize)]
pub struct Summary {
    name: &'static str,
    title: String,
    goal: String,
    steps: usize,
}

/// A lesson with its name and what its commands create (what `lesson reset` removes).
#[derive(serde::Serialize)]
pub struct Named {
    name: String,
    lesson: Lesson,
    creates: Created,
}

pub async fn list() -> ApiResult<Json<Vec<Summary>>> {
    let mut out = Vec::new();
    for l in SHIPPED {
        let lesson = lessons::shipped(l.name)?;
        out.push(Summary { name: l.name, steps: lesson.steps.len(), title: lesson.title, goal: lesson.goal });
    }
    Ok(Json(out))
}

pub async fn get(Path(name): Path<String>) -> ApiResult<Json<Named>> {
    let lesson = lessons::shipped(&name)?;
    let creates = porthole_core::lesson::created(&lesson);
    Ok(Json(Named { name, lesson, creates }))
}

pub async fn step_check(
    State(s): State<AppState>,
    Path((name, n)): Path<(String, usize)>,
) -> ApiResult<Json<StepOutcome>> {
    let step = lessons::shipped_step(&name, n)?;
    let engine = s.engine.clone();
    Ok(Json(blocking(move || Ok(engine.lesson_step_outcome(&step))).await?))
}

pub async fn check(State(s): State<AppState>, body: Bytes) -> ApiResult<Json<StepOutcome>> {
    let step: Step =
        serde_json::from_slice(&body).map_err(|e| ApiError::InvalidJson(format!("invalid lesson step: {e}")))?;
    let engine = s.engine.clone();
    Ok(Json(blocking(move || Ok(engine.lesson_step_outcome(&step))).await?))
}
